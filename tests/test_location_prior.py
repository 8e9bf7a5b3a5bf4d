"""The lab's location-prior check: the model card's evidence that the error left is tied to places."""
import numpy as np

from mars_cloudmask_lab.scripts import location_prior_check as check


def sols_with(place_cloud_days, labelled_only_then=False, shape=(12, 20)):
    """18 small sols: one cloud the model sees on every day (probability 0.9) and a place at rows 2-3,
    columns 2-5 that is cloud on `place_cloud_days` where the model says 0.3; clear elsewhere (0.1).
    With `labelled_only_then` the place has no label (-999) on the other days."""
    sols = {}
    for day in range(1, 19):
        reference = np.zeros(shape, np.int16)
        prob = np.full(shape, 0.1, np.float32)
        reference[6:9, 10:14], prob[6:9, 10:14] = 1, 0.9
        if day in place_cloud_days:
            reference[2:4, 2:6], prob[2:4, 2:6] = 1, 0.3
        elif labelled_only_then:
            reference[2:4, 2:6] = -999
        sols[day] = {"prob": prob, "reference": reference, "data": np.ones(shape, bool)}
    return sols


def iou_at(confusions, threshold=0.5):
    return confusions[list(check.THRESHOLDS).index(threshold)].metrics()["iou"]


def test_a_cloud_that_recurs_at_a_place_is_corrected_from_the_training_labels():
    sols = sols_with(place_cloud_days=range(1, 19))
    _, plain = check.corrected_confusions(sols, check.correction_maps(sols, box=1), alpha=0.0)
    _, corrected = check.corrected_confusions(sols, check.correction_maps(sols, box=1), alpha=1.0)
    assert iou_at(plain) == 12 / 20          # the recurring cloud is missed on every validation day
    assert iou_at(corrected) == 1.0          # 0.3 + (1 - 0.3) reaches it


def test_a_training_day_is_never_corrected_by_its_own_labels():
    # that place is labelled on training day 3 only, as cloud: only day 3's own label could correct it
    sols = sols_with(place_cloud_days={3}, labelled_only_then=True)
    train, _ = check.corrected_confusions(sols, check.correction_maps(sols, box=1), alpha=1.0)
    plain, _ = check.corrected_confusions(sols, check.correction_maps(sols, box=1), alpha=0.0)
    assert iou_at(plain) < 1.0
    assert iou_at(train) == iou_at(plain)


def test_the_recurring_cloud_shows_as_a_deficit_where_the_labels_show_cloud_on_every_training_sol():
    bands = check.residual_by_recurrence(sols_with(place_cloud_days=range(1, 19)))
    pixels, mean = bands[0.8, 1.0]
    assert pixels == 8 + 12                          # the place and the cloud the model sees
    assert round(mean, 4) == round((8 * 0.7 + 12 * 0.1) / 20, 4)
    pixels, mean = bands[0.0, 0.001]                 # clear everywhere else, called 0.1
    assert (pixels, round(mean, 4)) == (12 * 20 - 20, -0.1)
