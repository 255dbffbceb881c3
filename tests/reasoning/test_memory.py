"""The offline reasoner's memory of billboards over the views of one task."""

import numpy as np

from cognitivedrone.reasoning.offline.memory import BoardMemory
from cognitivedrone.reasoning.offline.perception import Billboard

N_ASSETS = 5


def board(picture: int, shape: str, color: str, u: float = 0.0, sure: float = 0.9, cut: bool = False) -> Billboard:
    probs = np.full(N_ASSETS, (1 - sure) / (N_ASSETS - 1))
    probs[picture] = sure
    return Billboard(u=0.95 if cut else u, v=-0.3, confidence=0.9, scale=0.2 if cut else 0.1, asset_probs=probs,
                     size="big", shape=shape, color=color)


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


def test_two_alike_billboards_in_one_view_are_two():
    m = BoardMemory()
    m.add([board(0, "round", "red", -0.4), board(0, "round", "red", 0.4)])
    assert len(m.boards()) == 2


def test_the_clearest_sighting_is_kept():
    m = BoardMemory()
    m.add([board(0, "round", "red", cut=True, sure=0.95)])
    m.add([board(0, "round", "red", sure=0.7)])  # whole beats cut by the frame's edge
    assert not m.boards()[0].partly_seen
    m.add([board(0, "round", "red", sure=0.9)])
    assert m.boards()[0].asset_probs.max() == 0.9
