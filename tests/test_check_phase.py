"""The check phase made cheaper gives the same results (issue 13): text folded and cleaned of noise a file
at a time, and workers that check districts while the parent learns the spellings across them."""

from __future__ import annotations

import re
import sys
import time
import unicodedata
from pathlib import Path

import pytest
from conftest import CITY

from xltools.rollup import ConsolidateOptions, consolidate, mapping
from xltools.text import fold, fold_all
from xltools.units import learn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import gen_freeform  # noqa: E402

_WS = re.compile(r"\s+")
EVERY = [chr(c) for c in range(1, 0x110000)]
# Characters NFKC composes or decomposes in context, full-width forms, spaces, NUL, Hangul jamo.
TRICKY = ["Ａ\u030a", "e\u0301", "ｶﾞ", "\u1100\u1161", "\uac00\u11a8", "①Ⅳ", "（２０２５）", "区　财政局", "a\tb\n",
          "\x00", "", "市中区", "A\u0308\u0301", "\u0301", "ｱ\u3099"]


def _reference(text: str) -> str:
    return _WS.sub("", unicodedata.normalize("NFKC", text))


def test_fold_is_nfkc_without_whitespace_for_every_character():
    assert [c for c in EVERY if fold(c) != _reference(c)] == []
    assert [t for t in TRICKY if fold(t) != _reference(t)] == []


def test_fold_all_folds_each_text_as_fold_does():
    assert fold_all(EVERY) == [_reference(c) for c in EVERY]
    # Texts side by side never compose across their boundary, and a text holding a NUL is folded alone.
    pairs = [[a, b] for a in TRICKY for b in TRICKY]
    assert [fold_all(p) for p in pairs] == [[_reference(a), _reference(b)] for a, b in pairs]
    assert fold_all([]) == []


def test_noise_is_taken_out_of_a_file_at_once_as_the_pattern_does():
    texts = ["中" + c + "文" for c in EVERY]
    assert mapping._denoised(texts) == [mapping._NOISE.sub("", t) for t in texts]
    assert mapping._denoised(["工业4.0改造", "a\x00b", "设备"]) == ["工业改造", "", "设备"]


def _run(inbox: Path, workers: int):
    rollup = consolidate(CITY, inbox, None, ConsolidateOptions(workers=workers, use_archive=False))
    problems = [(p.type, p.file, p.sheet, p.cell, p.line, p.message, p.value, p.suggestion) for p in rollup.problems]
    rows = [(m.region, m.row.origin.row, m.city_seqs, m.confidence, m.method) for m in rollup.mappings]
    targets = [(r.name, r.row_targets, r.goal_targets) for r in rollup.received]
    return problems, rows, targets


def test_workers_check_while_the_parent_learns_and_find_what_one_process_finds(tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    gen_freeform.generate(inbox, 16, seed=5)  # districts the unit directory does not list: spellings learned
    alone = _run(inbox, 1)
    learned = [p for p in alone[0] if p[0] in ("unit-rare-spelling", "unit-inconsistent-form")]
    assert len({p[1] for p in learned}) >= 3  # spellings learned across districts flag names in several files
    assert _run(inbox, 2) == alone
    slow = learn.Tally.learn

    def slow_learn(self):  # the workers have checked every file but for its unit names before these come
        time.sleep(0.5)
        return slow(self)

    monkeypatch.setattr(learn.Tally, "learn", slow_learn)
    assert _run(inbox, 2) == alone


@pytest.mark.parametrize("chunks", [1, 3, 16])
def test_spellings_counted_in_chunks_and_added_up_are_learned_as_from_every_district(chunks):
    names = [["区住房城乡建设局", "区住建局", "区财政局"] * 3, ["区住房城乡建设局", "区财政局", "区工业和信息华局"],
             ["区住房城乡建设局"] * 4 + ["区财政局"] * 5, ["区工业和信息化局"] * 4 + ["区财政局"]] * 4
    whole = learn.learn_across(names)
    tally = learn.Tally()
    for at in range(0, len(names), chunks):
        part = learn.Tally()
        for district in names[at:at + chunks]:
            part.add(district)
        tally.merge(part)
    got = tally.learn()
    assert {k: (c.status, c.canonical, c.suggestions, c.message) for k, c in got.items()} == \
        {k: (c.status, c.canonical, c.suggestions, c.message) for k, c in whole.items()}
    assert set(got) == {"区住建局", "区工业和信息华局"}  # a short form, a typo
