"""Tests for synth.allocator: the card bookkeeping and its steal policy."""

import mido
import pytest

from synth.allocator import Allocator

T = 0  # track
CH = 0  # channel


def fill(alloc: Allocator, keys) -> list[int]:
    return [alloc.note_on(T, CH, key)[0] for key in keys]


def test_free_cards_are_used_lowest_first():
    alloc = Allocator(8)
    assert [alloc.note_on(T, CH, 60 + i) for i in range(8)] == [(i, None) for i in range(8)]
    assert alloc.n_busy == 8


def test_freed_card_is_reused_before_higher_free_cards():
    alloc = Allocator(8)
    fill(alloc, [60, 61, 62, 63])
    alloc.note_off(T, CH, 61)
    alloc.free(1)
    assert alloc.playing(1) is None
    assert alloc.state(1) == "free"
    assert alloc.n_busy == 3
    assert alloc.note_on(T, CH, 70) == (1, None)
    assert alloc.note_on(T, CH, 71) == (4, None)


def test_ninth_note_on_eight_cards_steals_the_card_released_longest_ago():
    alloc = Allocator(8)
    fill(alloc, range(60, 68))  # cards 0..7
    assert alloc.note_off(T, CH, 65) == 5  # released first
    assert alloc.note_off(T, CH, 62) == 2
    card, stolen = alloc.note_on(T, CH, 72)
    assert (card, stolen) == (5, (T, CH, 65))
    assert alloc.playing(5) == (T, CH, 72)
    assert alloc.state(5) == "held"
    # The next steal takes the other released card, although card 0 holds the oldest note.
    assert alloc.note_on(T, CH, 73) == (2, (T, CH, 62))


def test_ninth_note_on_eight_held_cards_steals_the_oldest_note():
    alloc = Allocator(8)
    fill(alloc, range(60, 68))
    assert alloc.note_on(T, CH, 72) == (0, (T, CH, 60))
    assert alloc.note_on(T, CH, 73) == (1, (T, CH, 61))
    # Card 0 now holds the newest note; the oldest is on card 2.
    assert alloc.note_on(T, CH, 74) == (2, (T, CH, 62))
    assert alloc.n_busy == 8


def test_stolen_note_no_longer_answers_its_note_off():
    alloc = Allocator(2)
    fill(alloc, [60, 61])
    alloc.note_on(T, CH, 62)  # steals 60 from card 0
    assert alloc.note_off(T, CH, 60) is None
    assert alloc.note_off(T, CH, 62) == 0


def test_note_off_releases_oldest_instance_of_a_repeated_key():
    alloc = Allocator(8)
    fill(alloc, [60, 64, 60, 60])  # 60 on cards 0, 2, 3
    assert alloc.note_off(T, CH, 60) == 0
    assert alloc.state(0) == "released"
    assert alloc.state(2) == "held"
    assert alloc.card_of(T, CH, 60) == 2
    assert alloc.note_off(T, CH, 60) == 2
    assert alloc.note_off(T, CH, 60) == 3
    assert alloc.note_off(T, CH, 60) is None
    assert alloc.card_of(T, CH, 60) is None


def test_note_off_of_a_note_never_played_returns_none():
    alloc = Allocator(8)
    fill(alloc, [60])
    assert alloc.note_off(T, CH, 61) is None
    assert alloc.note_off(T, 1, 60) is None  # other channel
    assert alloc.note_off(1, CH, 60) is None  # other track
    assert alloc.state(0) == "held"


def test_released_card_stays_busy_until_freed():
    alloc = Allocator(1)
    fill(alloc, [60])
    assert alloc.note_off(T, CH, 60) == 0
    assert alloc.n_busy == 1
    assert alloc.playing(0) == (T, CH, 60)
    alloc.free(0)
    assert alloc.n_busy == 0
    assert alloc.note_on(T, CH, 61) == (0, None)


def test_sustain_pedal_holds_released_keys_until_pedal_up():
    alloc = Allocator(8)
    fill(alloc, [60, 62, 64])
    assert alloc.hold(CH, True) == []
    assert alloc.note_off(T, CH, 62) is None
    assert alloc.note_off(T, CH, 60) is None
    assert alloc.state(0) == "sustained"
    assert alloc.state(1) == "sustained"
    assert alloc.state(2) == "held"
    # Pedal up releases the sustained notes in the order their keys went up; the held one stays.
    assert alloc.hold(CH, False) == [1, 0]
    assert [alloc.state(card) for card in range(3)] == ["released", "released", "held"]
    assert alloc.note_off(T, CH, 64) == 2


def test_sustain_pedal_acts_on_its_own_channel_only():
    alloc = Allocator(8)
    alloc.note_on(T, 0, 60)
    alloc.note_on(T, 1, 60)
    alloc.hold(0, True)
    assert alloc.pedal_is_down(0) and not alloc.pedal_is_down(1)
    assert alloc.note_off(T, 0, 60) is None
    assert alloc.note_off(T, 1, 60) == 1
    assert alloc.pedal_up(1) == []
    assert alloc.pedal_up(0) == [0]


def test_sustained_note_is_stolen_as_oldest_not_as_released():
    alloc = Allocator(3)
    fill(alloc, [60, 61, 62])
    alloc.hold(CH, True)
    alloc.note_off(T, CH, 60)  # sustained, card 0
    alloc.hold(CH, False)  # now released
    alloc.note_on(T, CH, 63)  # steals card 0 (released)
    alloc.hold(CH, True)
    alloc.note_off(T, CH, 62)  # card 2 sustained: not a release, so the oldest (card 1) goes
    assert alloc.note_on(T, CH, 64) == (1, (T, CH, 61))


def test_pedal_up_after_steal_does_not_return_the_stolen_card():
    alloc = Allocator(1)
    alloc.hold(CH, True)
    fill(alloc, [60])
    alloc.note_off(T, CH, 60)
    assert alloc.note_on(T, CH, 61) == (0, (T, CH, 60))
    assert alloc.pedal_up(CH) == []
    assert alloc.state(0) == "held"


def test_all_notes_off_releases_held_and_sustained_notes_of_the_channel():
    alloc = Allocator(8)
    alloc.note_on(T, 0, 60)  # card 0
    alloc.note_on(T, 1, 60)  # card 1
    alloc.note_on(T, 0, 62)  # card 2
    alloc.hold(0, True)
    alloc.note_off(T, 0, 60)  # card 0 sustained
    assert alloc.all_notes_off(0) == [0, 2]
    assert [alloc.state(card) for card in range(3)] == ["released", "held", "released"]
    assert alloc.note_off(T, 0, 62) is None
    assert alloc.pedal_up(0) == []


def test_free_makes_a_held_card_available_and_forgets_its_note():
    alloc = Allocator(2)
    fill(alloc, [60, 61])
    alloc.free(0)  # e.g. an unlooped sample ran out while the key was down
    assert alloc.note_off(T, CH, 60) is None
    assert alloc.note_on(T, CH, 62) == (0, None)
    alloc.free(0)
    alloc.free(0)  # freeing twice changes nothing
    assert alloc.n_busy == 1
    assert alloc.note_on(T, CH, 63) == (0, None)
    with pytest.raises(IndexError):
        alloc.free(2)


def test_cards_on_lists_busy_cards_of_a_channel():
    alloc = Allocator(4)
    alloc.note_on(0, 3, 60)
    alloc.note_on(1, 5, 60)
    alloc.note_on(2, 3, 61)
    alloc.note_off(2, 3, 61)
    assert alloc.cards_on(3) == [0, 2]
    assert alloc.cards_on(5) == [1]
    assert alloc.cards_on(0) == []


def test_tracks_keep_their_own_instances_of_a_shared_channel_and_key():
    alloc = Allocator(4)
    alloc.note_on(0, CH, 60)
    alloc.note_on(1, CH, 60)
    assert alloc.note_off(1, CH, 60) == 1
    assert alloc.state(0) == "held"


def test_reset_frees_everything_and_lifts_pedals():
    alloc = Allocator(2)
    alloc.hold(CH, True)
    fill(alloc, [60, 61])
    alloc.reset()
    assert alloc.n_busy == 0
    assert not alloc.pedal_is_down(CH)
    assert alloc.note_on(T, CH, 60) == (0, None)
    assert alloc.note_off(T, CH, 60) == 0


def test_same_event_sequence_gives_the_same_cards():
    def run() -> list:
        alloc = Allocator(4)
        out = []
        for i in range(40):
            key = 60 + (i * 7) % 12
            out.append(alloc.note_on(T, i % 3, key))
            if i % 2:
                out.append(alloc.note_off(T, (i - 1) % 3, 60 + ((i - 1) * 7) % 12))
            if i % 5 == 0:
                alloc.free(i % 4)
        return out

    first = run()
    assert first == run()
    # The sequence is dense enough to exercise stealing, not only free cards.
    assert any(isinstance(item, tuple) and item[1] is not None for item in first)


def test_allocator_needs_at_least_one_card():
    with pytest.raises(ValueError):
        Allocator(0)


# --- follow: the one place that says which messages end notes --------------------------------------


def _cc(control: int, value: int = 0, channel: int = CH):
    return mido.Message("control_change", channel=channel, control=control, value=value)


def test_following_a_key_up_releases_its_oldest_instance_and_an_unknown_key_nothing():
    alloc = Allocator(4)
    first, second = fill(alloc, [60, 60])
    assert alloc.follow(T, mido.Message("note_on", channel=CH, note=60, velocity=0)) == [first]
    assert alloc.follow(T, mido.Message("note_off", channel=CH, note=61)) == []
    assert alloc.state(second) == "held"


def test_following_the_pedal_holds_notes_until_it_lifts_then_releases_them_in_key_up_order():
    alloc = Allocator(4)
    cards = fill(alloc, [60, 62, 64])
    assert alloc.follow(T, _cc(64, 127)) == []
    for key in (64, 60):
        assert alloc.follow(T, mido.Message("note_off", channel=CH, note=key)) == []
    assert alloc.state(cards[2]) == "sustained"
    assert alloc.follow(T, _cc(64, 0)) == [cards[2], cards[0]]
    assert alloc.state(cards[1]) == "held"


def test_following_reset_all_controllers_lifts_the_pedal():
    alloc = Allocator(4)
    [card] = fill(alloc, [60])
    alloc.follow(T, _cc(64, 100))
    alloc.follow(T, mido.Message("note_off", channel=CH, note=60))
    assert alloc.follow(T, _cc(121)) == [card]


@pytest.mark.parametrize("control", [120, 123, 124, 125, 126, 127])
def test_following_all_notes_off_or_a_mode_message_releases_every_note_of_its_channel_only(control):
    alloc = Allocator(4)
    mine = fill(alloc, [60, 64])
    other, _ = alloc.note_on(T, CH + 1, 67)
    assert alloc.follow(T, _cc(control)) == mine
    assert alloc.state(other) == "held"


def test_following_any_other_message_changes_nothing():
    alloc = Allocator(4)
    fill(alloc, [60])
    for message in (_cc(7, 10), _cc(64, 63), mido.Message("program_change", program=5),
                    mido.Message("pitchwheel", pitch=100)):
        assert alloc.follow(T, message) == []
    assert alloc.n_busy == 1
