"""Polar bounds (paper's equations, buffer c = 3) and the latitude-to-row rule, worked by hand."""
import pytest

from mars_cloudmask_plugin.bounds import check_ls, polar_bounds
from mars_cloudmask_plugin.errors import CloudmaskError
from mars_cloudmask_plugin.grid import rows_between

# s = 90 - |90 - Ls| (Ls <= 180) or 90 - |270 - Ls| (Ls > 180)
# Ls <= 180: latN = 59 + 0.214 s - 3, latS = -57 + 0.247 s + 3
# Ls  > 180: latN = 59 - 0.214 s - 3, latS = -57 - 0.247 s + 3
HAND_WORKED = [
    # Ls,  s,  latN,                        latS
    (0,    0,  56.0,                        -54.0),
    (45,   45, 59 + 9.63 - 3,               -57 + 11.115 + 3),    # 65.63, -42.885
    (90,   90, 59 + 19.26 - 3,              -57 + 22.23 + 3),     # 75.26, -31.77
    (135,  45, 65.63,                       -42.885),
    (180,  0,  56.0,                        -54.0),
    (225,  45, 59 - 9.63 - 3,               -57 - 11.115 + 3),    # 46.37, -65.115
    (270,  90, 59 - 19.26 - 3,              -57 - 22.23 + 3),     # 36.74, -76.23
    (315,  45, 46.37,                       -65.115),
    (360,  0,  56.0,                        -54.0),
]


@pytest.mark.parametrize("ls, s, lat_n, lat_s", HAND_WORKED)
def test_polar_bounds_follow_the_papers_equations(ls, s, lat_n, lat_s):
    got_n, got_s = polar_bounds(ls)
    assert got_n == pytest.approx(lat_n, abs=1e-9)
    assert got_s == pytest.approx(lat_s, abs=1e-9)


def test_buffer_moves_both_bounds_towards_the_equator():
    n0, s0 = polar_bounds(90, buffer=0)
    n5, s5 = polar_bounds(90, buffer=5)
    assert (n0 - n5, s5 - s0) == pytest.approx((5, 5))


# Row r has its centre at latitude 90 - 0.1 r; rows kept are those with centres in [latS, latN]:
# first = ceil((90 - latN) / 0.1), last = floor((90 - latS) / 0.1), half-open end = last + 1.
ROWS = [
    (56.0, -54.0, 340, 1441),        # (90-56)/0.1 = 340 exactly: the row on the bound is kept
    (65.63, -42.885, 244, 1329),     # 243.7 -> 244 (65.6 N); 1328.85 -> 1328 (42.8 S)
    (75.26, -31.77, 148, 1218),      # 147.4 -> 148; 1217.7 -> 1217
    (46.37, -65.115, 437, 1552),     # 436.3 -> 437; 1551.15 -> 1551
    (36.74, -76.23, 533, 1663),      # 532.6 -> 533; 1662.3 -> 1662
    (95.0, -95.0, 0, 1801),          # clipped to the grid
]


@pytest.mark.parametrize("lat_n, lat_s, first, end", ROWS)
def test_rows_between_keeps_rows_whose_centres_lie_within_the_bounds(lat_n, lat_s, first, end):
    assert rows_between(lat_n, lat_s) == (first, end)


@pytest.mark.parametrize("ls", [-0.1, 360.01, float("nan"), "spring", None])
def test_ls_outside_0_360_or_not_a_number_is_refused(ls):
    with pytest.raises(CloudmaskError, match="Ls"):
        check_ls(ls, "x.jpg")


def test_ls_error_names_the_file():
    with pytest.raises(CloudmaskError, match=r"^P01_day10_zequat\.jpg: solar longitude Ls 400"):
        check_ls(400, "P01_day10_zequat.jpg")


@pytest.mark.parametrize("ls, latitude", [(0, 0.0), (90, 25.19), (180, 0.0), (270, -25.19), (360, 0.0),
                                          # sin(25.19) sin(30) = 0.21280 -> asin: 12.287 degrees
                                          (30, 12.287)])
def test_the_subsolar_latitude_follows_the_obliquity_through_the_year(ls, latitude):
    from mars_cloudmask_plugin.bounds import subsolar_latitude
    assert subsolar_latitude(ls) == pytest.approx(latitude, abs=1e-3)
