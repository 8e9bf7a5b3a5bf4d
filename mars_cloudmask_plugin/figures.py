"""Figures of the analyses (matplotlib, Agg canvas: no window, no pyplot state, safe inside QGIS)
and the HTML report that shows one in QGIS's Results Viewer. Written atomically like every output."""
import html
import math
from pathlib import Path

import numpy as np

from .writers import atomic_output

EMPTY_COLOUR = "#d9d9d9"     # bins without a valid pixel: grey, hatched, never a colour of the scale


def _figure(width=10.0, height=5.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    return Path(path)


def _season_axis(ax, first, last):
    """Ls ticks every 30 degrees across Mars years, labelled 'Ls' with the Mars year at each year start."""
    ticks = np.arange(30 * math.ceil(first / 30), last + 1, 30)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t % 360:g}" + (f"\nMY {int(t // 360)}" if t % 360 == 0 or t == ticks[0] else "")
                        for t in ticks])
    ax.set_xlim(first, last)
    ax.set_xlabel("solar longitude Ls (degrees), on across Mars years")


def latitude_ls_figure(path, clim):
    """Latitude x Ls diagram: colour = cloud share of valid pixels, empty bins grey and hatched."""
    import matplotlib
    fig = _figure()
    ax = fig.add_subplot()
    ax.set_facecolor(EMPTY_COLOUR)
    data = np.ma.masked_invalid(clim.cloud_fraction)
    cmap = matplotlib.colormaps["viridis"].copy()
    cmap.set_bad(EMPTY_COLOUR)
    mesh = ax.pcolormesh(clim.season_edges, clim.lat_edges, data, cmap=cmap, vmin=0, vmax=max(0.05, float(
        np.nanmax(clim.cloud_fraction)) if np.isfinite(clim.cloud_fraction).any() else 1.0), shading="flat")
    empty = np.isnan(clim.cloud_fraction)
    if empty.any():
        ax.pcolor(clim.season_edges, clim.lat_edges, np.ma.masked_where(~empty, np.ones_like(data.data)),
                  hatch="//", alpha=0, shading="flat")
    _season_axis(ax, clim.season_edges[0], clim.season_edges[-1])
    ax.set_ylabel("latitude (degrees north)")
    ax.set_ylim(clim.lat_edges[0], clim.lat_edges[-1])
    years = "-".join(map(str, (clim.mars_years[0], clim.mars_years[-1]))) if len(clim.mars_years) > 1 \
        else str(clim.mars_years[0])
    window = "" if clim.lon_window is None else ", longitudes %g to %g" % clim.lon_window
    ax.set_title(f"Zonal-mean water-ice cloud frequency, Mars year {years}: {clim.n_sols} sols{window}\n"
                 f"(cloud share of valid pixels; grey hatched: no valid pixel)")
    fig.colorbar(mesh, ax=ax, label="cloud fraction of valid pixels")
    return _save(fig, path)


def frequency_figure(path, frequency, title):
    """A cloud frequency map (global grid, north up) with lon/lat axes; nodata left white."""
    from . import grid
    fig = _figure(10, 5.4)
    ax = fig.add_subplot()
    data = np.ma.masked_equal(frequency, grid.NODATA)
    extent = (grid.WEST_EDGE, grid.WEST_EDGE + grid.WIDTH * grid.PIXEL_DEG,
              grid.NORTH_EDGE - grid.HEIGHT * grid.PIXEL_DEG, grid.NORTH_EDGE)
    image = ax.imshow(data, extent=extent, cmap="Purples", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks(range(-180, 181, 60))
    ax.set_yticks(range(-90, 91, 30))
    ax.set_xlabel("east longitude (degrees)")
    ax.set_ylabel("latitude (degrees)")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="cloud frequency (cloud sols / valid sols)", shrink=0.8)
    return _save(fig, path)


def series_figure(path, rows, region_key="region"):
    """Cloud fraction per sol against Ls (on across Mars years), one line per region."""
    fig = _figure(10, 4.5)
    ax = fig.add_subplot()
    regions = list(dict.fromkeys(r[region_key] for r in rows))
    for region in regions:
        points = [(r["season"], r["cloud_fraction"]) for r in rows if r[region_key] == region
                  and r["cloud_fraction"] != ""]
        if points:
            x, y = zip(*points)
            ax.plot(x, y, marker=".", linewidth=1, label=region)
    seasons = [r["season"] for r in rows]
    _season_axis(ax, min(seasons), max(seasons) if max(seasons) > min(seasons) else min(seasons) + 1)
    ax.set_ylabel("cloud fraction of valid pixels")
    ax.set_ylim(bottom=0)
    sols = len({r["sol"] for r in rows})
    ax.set_title(f"Water-ice cloud cover per sol ({sols} sols)")
    if len(regions) <= 20:
        ax.legend(fontsize="small", ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1))
    return _save(fig, path)


def html_report(path, figure, title, lines=()):
    """A small HTML page showing `figure` (linked by file name, so keep them side by side)."""
    figure = Path(figure)
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body><h2>{html.escape(title)}</h2>{body}<img src='{html.escape(figure.resolve().as_uri())}' "
            f"alt='{html.escape(title)}' style='max-width:100%'></body></html>")
    with atomic_output(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return Path(path)
