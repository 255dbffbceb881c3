"""The offline reasoner's memory of billboards over the views of one task."""

import numpy as np

from cognitivedrone.reasoning.offline.memory import BoardMemory
from cognitivedrone.reasoning.offline.boards import Billboard

N_ASSETS = 5


def board(picture: int, shape: str, color: str, u: float = 0.0, sure: float = 0.9, cut: bool = False,
          gate_seen: bool = True, looks_p: tuple = (1.0, 1.0, 1.0)) -> Billboard:
    probs = np.full(N_ASSETS, (1 - sure) / (N_ASSETS - 1))
    probs[picture] = sure
    return Billboard(u=0.95 if cut else u, v=-0.3, confidence=0.9, scale=0.2 if cut else 0.1, asset_probs=probs,
                     size="big", shape=shape, color=color, looks_p=looks_p, gate_seen=gate_seen)


def test_views_that_each_show_two_of_three_billboards_add_up_to_three():
    m = BoardMemory()
    m.add([board(0, "round", "red", -0.5), board(1, "square", "green", 0.3)])
    m.add([board(1, "square", "green", -0.4), board(2, "triangle", "blue", 0.4)])
    assert sorted(int(b.asset_probs.argmax()) for b in m.boards()) == [0, 1, 2]


def test_a_gate_misread_once_is_the_same_billboard_by_its_picture():
    m = BoardMemory()
    m.add([board(0, "round", "red"), board(1, "square", "green", 0.4)])
    m.add([board(0, "square", "red"), board(1, "square", "green", 0.4)])  # the red gate read as square
    assert len(m.boards()) == 2


def test_a_reading_seen_once_among_many_views_is_left_out():
    m = BoardMemory()
    for _ in range(5):
        m.add([board(0, "round", "red"), board(1, "square", "green", 0.4)])
    m.add([board(3, "triangle", "blue", 0.8, sure=0.4)])  # a glimpse of something, misread
    assert len(m.boards()) == 2
    for _ in range(2):
        m.add([board(3, "triangle", "blue", 0.8, sure=0.4)])  # seen again and again: a billboard
    assert len(m.boards()) == 3


def test_a_picture_read_surely_in_two_brief_views_counts_unless_a_well_seen_billboard_shows_it():
    # A narrow camera's look-around: two billboards in view throughout, the third at the sweep's end.
    m = BoardMemory()
    for _ in range(12):
        m.add([board(0, "round", "red", -0.4), board(1, "square", "green", 0.4)])
    m.add([board(2, "triangle", "blue", 0.8, sure=0.95)])
    assert len(m.boards()) == 2  # one view is a glimpse: it may be a misread
    m.add([board(2, "triangle", "blue", 0.8, sure=0.95)])
    assert sorted(int(b.asset_probs.argmax()) for b in m.boards()) == [0, 1, 2]

    m = BoardMemory()
    for _ in range(12):
        m.add([board(0, "round", "red", -0.4), board(1, "square", "green", 0.4)])
    for _ in range(2):  # lost by the tracking, and read as a picture a well-seen billboard shows
        m.add([board(1, "triangle", "blue", 0.8, sure=0.95)])
    assert len(m.boards()) == 2


def test_two_alike_billboards_in_one_view_are_two():
    m = BoardMemory()
    m.add([board(0, "round", "red", -0.4), board(0, "round", "red", 0.4)])
    assert len(m.boards()) == 2


def test_whole_views_are_pooled_and_cut_ones_count_only_while_none_is_whole():
    m = BoardMemory()
    m.add([board(0, "round", "red", cut=True, sure=0.95)])
    assert m.boards()[0].partly_seen and np.isclose(m.boards()[0].asset_probs.max(), 0.95)
    m.add([board(0, "round", "red", sure=0.7)])  # whole beats cut by the frame's edge
    assert not m.boards()[0].partly_seen and np.isclose(m.boards()[0].asset_probs.max(), 0.7)
    m.add([board(0, "round", "red", sure=0.9)])
    assert np.isclose(m.boards()[0].asset_probs.max(), 0.8)  # the mean of the whole views
    assert np.isclose(m.boards()[0].asset_probs.sum(), 1.0)


def test_one_noisy_view_is_outvoted_by_the_others():
    m = BoardMemory()
    for _ in range(3):
        m.add([board(2, "round", "red", sure=0.6)])
    m.add([board(3, "round", "red", sure=0.8)])  # one frame's noise: a 9 read as a 6, surely
    b = m.boards()[0]
    assert int(b.asset_probs.argmax()) == 2


def test_the_gate_is_read_from_views_that_show_it():
    m = BoardMemory()
    m.add([board(0, "round", "red", looks_p=(0.9, 0.9, 0.9))])
    m.add([board(0, "triangle", "red", gate_seen=False, looks_p=(0.99, 0.99, 0.99))])  # gate cut off
    m.add([board(0, "triangle", "red", gate_seen=False, looks_p=(0.99, 0.99, 0.99))])
    b = m.boards()[0]
    assert len(m.boards()) == 1 and b.shape == "round" and np.isclose(b.looks_p[1], 0.9)
    m.add([board(0, "triangle", "red", looks_p=(0.9, 0.6, 0.9))])  # two views in frame disagree: less sure
    b = m.boards()[0]
    assert b.shape == "round" and np.isclose(b.looks_p[1], 0.45) and np.isclose(b.looks_p[2], 0.9)


def test_a_billboard_is_tracked_by_where_it_is_while_its_gate_is_misread():
    """A turn shifts every billboard alike; one whose gate is read otherwise in the next frame
    (round, then triangle) stays one billboard, and its gate is the vote of its views."""
    m = BoardMemory()
    m.add([board(0, "round", "red", -0.5, looks_p=(0.9, 0.5, 0.9)), board(1, "square", "green", 0.0),
           board(2, "triangle", "blue", 0.5, looks_p=(0.9, 0.9, 0.9))])
    for shift in (0.1, 0.2):
        m.add([board(0, "triangle", "red", -0.5 + shift, looks_p=(0.9, 0.9, 0.9)), board(1, "square", "green", shift),
               board(2, "triangle", "blue", 0.5 + shift, looks_p=(0.9, 0.9, 0.9))])
    boards = sorted(m.boards(), key=lambda b: int(b.asset_probs.argmax()))
    assert len(m.entries) == 3 and [int(b.asset_probs.argmax()) for b in boards] == [0, 1, 2]
    assert [b.shape for b in boards] == ["triangle", "square", "triangle"]


def test_two_billboards_read_surely_as_different_pictures_are_never_tracked_together():
    m = BoardMemory()
    m.add([board(0, "round", "red", 0.0), board(1, "square", "green", 0.5)])
    m.add([board(2, "round", "red", 0.05), board(1, "square", "green", 0.55)])  # another board came in where 0 was
    assert len(m.entries) == 3


def test_a_billboard_counted_from_two_views_stays_as_the_one_ahead_gathers_views():
    # The look-around shows two billboards; then the drone sees only the one it flies towards.
    m = BoardMemory()
    for _ in range(2):
        m.add([board(0, "round", "red", -0.4), board(1, "square", "green", 0.4, sure=0.4)])
    for _ in range(20):
        m.add([board(0, "round", "red", 0.0)])
    assert sorted(int(b.asset_probs.argmax()) for b in m.boards()) == [0, 1]


def test_a_sure_reading_never_joins_another_billboard_by_its_gate_looks_alone():
    # A distractor read unsure beside a blue triangle gate, then that gate's billboard read surely
    # somewhere the tracking cannot follow: two billboards, not one.
    m = BoardMemory()
    for _ in range(3):
        m.add([board(1, "triangle", "blue", 0.4, sure=0.3)])
    for _ in range(2):
        m.add([board(2, "triangle", "blue", -0.6, sure=0.9)])
        m.add([])
    assert sorted(int(b.asset_probs.argmax()) for b in m.boards()) == [1, 2]
    # The other way round, an unsure glimpse of a billboard read surely before is that billboard.
    m = BoardMemory()
    for _ in range(3):
        m.add([board(2, "triangle", "blue", 0.4, sure=0.9)])
    m.add([])
    m.add([board(1, "triangle", "blue", -0.6, sure=0.3)])
    assert len(m.entries) == 1


def test_two_entries_read_surely_as_one_picture_are_one_unless_seen_together():
    m = BoardMemory()
    for _ in range(3):
        m.add([board(0, "round", "red", 0.4)])
    m.add([])
    m.add([board(3, "square", "blue", -0.6, sure=0.3)])  # a far glimpse, misread: an entry of its own
    for _ in range(3):  # ...which the tracking then follows as it is read surely: the same billboard
        m.add([board(0, "square", "blue", -0.6)])
    assert len(m.entries) == 2 and len(m.boards()) == 1
    m = BoardMemory()
    for _ in range(3):  # two billboards side by side read as one picture: both are there
        m.add([board(0, "round", "red", -0.4), board(0, "square", "blue", 0.4)])
    assert len(m.boards()) == 2


def test_a_sure_reading_is_not_carried_onto_a_billboard_read_surely_as_another_before():
    # One billboard in view at a time: the flamingo, a blurred glimpse (tracked onto it), then the
    # whale close by: the whale is not the flamingo seen again.
    m = BoardMemory()
    for _ in range(3):
        m.add([board(0, "triangle", "blue", 0.1)])
    m.add([board(3, "triangle", "blue", 0.3, sure=0.3)])
    m.add([board(2, "square", "red", 0.15)])
    assert [int(e.board.asset_probs.argmax()) for e in m.entries] == [0, 2]


def test_a_billboard_misread_surely_while_cut_by_the_frame_edge_is_still_the_one_later_seen_whole():
    # Seen at the frame's edge, a mosquito read 0.7 sure as a donkey; the drone turns a little and
    # sees it whole, the mosquito: one billboard, the mosquito (it was a second entry, and a second
    # mammal, in `stack sim`'s episode 17).
    m = BoardMemory()
    for _ in range(3):
        m.add([board(0, "round", "red", -0.3), board(1, "square", "blue", cut=True, sure=0.7)])
    for _ in range(2):
        m.add([board(0, "round", "red", -0.45), board(2, "square", "blue", 0.8, sure=0.97)])
    assert sorted(int(b.asset_probs.argmax()) for b in m.boards()) == [0, 2]
