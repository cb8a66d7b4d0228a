"""What the streams send (`onward`): frames, chunks, percent and phase never move back, from the
progress a watcher was shown when it connected on; and a storyboard image's notes in its event's
message."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from adgen.common.v1 import common_pb2 as c
from adgen.events.v1 import events_pb2 as e
from adgen_gateway.progress import FINISHED_STATUS_VALUES, STATUS, fold, onward

FIGURES = ("frames_done", "chunks_done", "percent", "phase")
COUNTS = ("beats_total", "frames_done", "chunks_total", "chunks_done", "cost_micros")

progresses = st.builds(
    c.Progress,
    video_id=st.just("v"),
    status=st.sampled_from(sorted(STATUS.values())),
    phase=st.sampled_from(sorted(c.Phase.values())),
    percent=st.floats(min_value=0.0, max_value=100.0),
    beats_total=st.integers(min_value=0, max_value=12),
    frames_done=st.integers(min_value=0, max_value=12),
    chunks_total=st.integers(min_value=0, max_value=40),
    chunks_done=st.integers(min_value=0, max_value=40),
    cost_micros=st.integers(min_value=0, max_value=10**9),
    message=st.text(max_size=20),
    eta_s=st.floats(min_value=0.0, max_value=600.0),
)


def behind(p: c.Progress, sent: c.Progress) -> bool:
    return any(getattr(p, f) < getattr(sent, f) for f in FIGURES)


@given(progresses, st.lists(progresses, max_size=20))
def test_each_figure_sent_is_the_largest_so_far(shown: c.Progress, folded: list[c.Progress]) -> None:
    sent, largest = shown, {f: getattr(shown, f) for f in FIGURES}
    for p in folded:
        sent = onward(sent, p)
        largest = {f: max(largest[f], getattr(p, f)) for f in FIGURES}
        assert {f: getattr(sent, f) for f in FIGURES} == largest


@given(progresses, progresses)
def test_a_progress_that_is_not_behind_goes_out_as_it_was_folded(sent: c.Progress, p: c.Progress) -> None:
    for f in FIGURES:
        setattr(p, f, max(getattr(p, f), getattr(sent, f)))
    assert onward(sent, p) is p


@given(progresses, progresses)
def test_a_progress_behind_leaves_the_watcher_with_what_it_was_shown(sent: c.Progress, p: c.Progress) -> None:
    assume(behind(p, sent))
    kept = onward(sent, p)
    assert (kept.status, kept.eta_s, kept.video_id) == (sent.status, sent.eta_s, sent.video_id)
    assert all(getattr(kept, n) == max(getattr(sent, n), getattr(p, n)) for n in (*COUNTS, *FIGURES))
    further = any(getattr(p, n) > getattr(sent, n) for n in (*COUNTS, *FIGURES))
    assert (kept is sent) == (not further)
    if further and kept.status not in FINISHED_STATUS_VALUES and kept.beats_total and kept.phase < c.PHASE_REFINE:
        # The message tells the counts the watcher now has.
        counts = f"storyboard {kept.frames_done}/{kept.beats_total} · chunks {kept.chunks_done}/{kept.chunks_total}"
        if kept.lines_total:
            counts += f" · voice {kept.lines_done}/{kept.lines_total}"
        waiting = "waiting for your review · " if kept.status == c.VIDEO_STATUS_AWAITING_REVIEW else ""
        assert kept.message == waiting + counts


def _history(beats: int, chunks: int) -> list[e.Event]:
    spec = c.Spec(beats=[c.Beat(index=i, duration_s=5) for i in range(beats)])
    spec.chunk_plan.slots.extend(c.ChunkSlot(index=i, beat_index=i % beats) for i in range(chunks))
    return [
        e.Event(video_id="v", phase_started=e.PhaseStarted(phase=c.PHASE_PLAN)),
        e.Event(video_id="v", video_planned=e.VideoPlanned(spec=spec)),
        *(e.Event(video_id="v", frame_ready=e.FrameReady(beat_index=b, frames_done=b + 1)) for b in range(beats)),
        *(e.Event(video_id="v", chunk_ready=e.ChunkReady(chunk_index=i, chunks_done=i + 1)) for i in range(chunks)),
        e.Event(video_id="v", phase_started=e.PhaseStarted(phase=c.PHASE_REFINE)),
        e.Event(video_id="v", phase_completed=e.PhaseCompleted(phase=c.PHASE_REFINE)),
        e.Event(video_id="v", video_completed=e.VideoCompleted(duration_s=5 * beats)),
    ]


@given(st.integers(min_value=1, max_value=6), st.integers(min_value=0, max_value=18), st.data())
def test_a_watcher_joining_mid_render_sees_the_replay_at_the_present_then_the_video_go_on(
    beats: int, extra_chunks: int, data: st.DataObject
) -> None:
    """The stream folds the history from its start; the watcher was shown the present, after
    `joined` events, and from there on sees the folded progress itself."""
    history = _history(beats, beats + extra_chunks)
    joined = data.draw(st.integers(min_value=0, max_value=len(history)))
    folded, progress = [], c.Progress(video_id="v")
    for event in history:
        progress = fold(progress, event)
        folded.append(progress)
    present = folded[joined - 1] if joined else c.Progress(video_id="v")

    sent, streamed = present, []
    for p in folded:
        sent = onward(sent, p)
        streamed.append(sent)

    # The replayed part: the present's figures and phase throughout (a moment equal in all of them
    # goes out as it was folded).
    assert all(s is present or s is p for s, p in zip(streamed[:joined], folded[:joined], strict=True))
    assert {tuple(getattr(s, f) for f in FIGURES) for s in streamed[:joined]} <= {
        tuple(getattr(present, f) for f in FIGURES)
    }
    assert all(s is p for s, p in zip(streamed[joined:], folded[joined:], strict=True))
    assert streamed[-1].status == c.VIDEO_STATUS_COMPLETED and streamed[-1].percent == 100.0


def test_a_storyboard_images_notes_are_told_in_its_events_message() -> None:
    planned = fold(c.Progress(), _history(3, 3)[1])
    note = "framed print: background not separable (confidence 0.31)"
    framed = fold(planned, e.Event(video_id="v", frame_ready=e.FrameReady(beat_index=1, frames_done=1, notes=[note])))
    assert framed.message == f"storyboard 1/3 · chunks 0/3 · beat 2: {note}"
    two = ["cut out (confidence 0.92)", "no edges: drawn without ControlNet"]
    both = fold(framed, e.Event(video_id="v", frame_ready=e.FrameReady(beat_index=0, frames_done=2, notes=two)))
    assert both.message == f"storyboard 2/3 · chunks 0/3 · beat 1: {two[0]}; {two[1]}"
    plain = fold(both, e.Event(video_id="v", frame_ready=e.FrameReady(beat_index=2, frames_done=3)))
    assert plain.message == "storyboard 3/3 · chunks 0/3"
    # The next event's message is about that event: the notes were the frame's.
    chunk = fold(framed, e.Event(video_id="v", chunk_ready=e.ChunkReady(chunk_index=0, chunks_done=1)))
    assert chunk.message == "storyboard 1/3 · chunks 1/3"
