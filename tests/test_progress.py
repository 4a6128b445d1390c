"""Progress on stderr: a bar with images/s and time left on a terminal, plain lines otherwise."""
import io

from core.progress import ProgressBar, progress_text, time_left


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_text_has_rate_and_time_left_worked_by_hand():
    assert progress_text(300, 1000, 50.0) == "300/1,000 images, 50 images/s, 14 s left"  # 700 / 50
    assert progress_text(10, 10000, 2.5) == "10/10,000 images, 2.5 images/s, 67 min left"  # 3996 s
    assert progress_text(5, 5, 9.0) == "5/5 images, 9.0 images/s"
    assert time_left(0, 10, 0.0) == ""


def test_terminal_gets_one_redrawn_bar():
    out = _Tty()
    bar = ProgressBar(stream=out, width=10)
    bar(5, 10, 5.0)
    bar(10, 10, 5.0)
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "[#####-----] 5/10 images, 5.0 images/s, 1 s left" in text
    assert "[##########] 10/10 images" in text


def test_pipe_gets_periodic_plain_lines_and_the_last_one():
    out = io.StringIO()
    bar = ProgressBar(stream=out, every_s=3600)
    for done in range(1, 101):
        bar(done, 100, 20.0)
    assert out.getvalue() == ""  # quick work: no lines at all
    out = io.StringIO()
    bar = ProgressBar(stream=out, every_s=0.0)
    bar(1, 100, 20.0)
    bar(100, 100, 20.0)
    lines = out.getvalue().splitlines()
    assert lines == ["Inference: 1/100 images, 20 images/s, 5 s left", "Inference: 100/100 images, 20 images/s"]
    assert "\r" not in out.getvalue()
