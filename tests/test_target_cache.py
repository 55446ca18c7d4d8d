"""The target parser remembers sentences (issue 13, item 3): districts recombine the city's sentences, so a
sentence is parsed once. What a sentence reads must not depend on the text it came in, or on what was parsed
before it."""

import random
import re

from conftest import CITY, SHIZHONG, ZHANGQIU

from xltools import extract
from xltools.target_text import _scan_cached, _sentence, checked_ledger_targets, parse_targets


def _cold(text, **kwargs):
    _scan_cached.cache_clear()
    _sentence.cache_clear()
    return parse_targets(text, **kwargs).to_dict()


def test_a_malformed_unit_is_completed_from_another_sentence_of_the_same_text():
    alone = "到2025年，完成设备更新428（套）。"
    both = alone + "其中数控机床100台（套）。"
    for first, second in ((alone, both), (both, alone)):  # either order, the cache warm for the second
        _cold(first)
        results = {text: parse_targets(text).problems for text in (first, second)}
        assert [p.suggestion for p in results[both]] == ["改为“428台（套）”（与本条其他数值的单位一致）"]
        assert [p.suggestion for p in results[alone]] == ["写明完整的计量单位，如“台（套）”"]


def test_the_same_sentence_takes_the_year_of_its_text():
    _cold("完成设备更新428台。", default_year=2026)
    assert [(t.year, t.metric, t.value) for t in parse_targets("完成设备更新428台。", default_year=2025).targets] == [
        (2025, "设备更新", 428)]
    # a year stated in an earlier sentence does not reach this one
    assert [t.year for t in parse_targets("到2027年，完成设备更新500台。完成设备更新428台。").targets] == [2027, None]


def test_recombined_seed_sentences_read_as_when_parsed_alone():
    texts = [r.content for path in (CITY, SHIZHONG, ZHANGQIU) for r in extract(path).rows if r.content]
    sentences = [s for t in texts for s in re.split(r"(?<=。)", t) if s.strip()]
    alone = {s: _cold(s) for s in sentences}
    rng = random.Random(13)
    _scan_cached.cache_clear()
    _sentence.cache_clear()
    for _ in range(300):  # the cache warms as districts' rows would warm it
        picked = rng.sample(sentences, 3)
        result = parse_targets("".join(picked)).to_dict()
        expected = [t for s in picked for t in alone[s]["targets"]]
        assert result["targets"] == expected


def test_a_ledger_reads_the_same_cold_and_warm():
    ledger = extract(ZHANGQIU)
    _scan_cached.cache_clear()
    _sentence.cache_clear()
    cold = checked_ledger_targets(ledger)
    warm = checked_ledger_targets(ledger)
    assert [p.to_dict() for p in cold[1]] == [p.to_dict() for p in warm[1]] and cold[1]
    assert [r.to_dict() for _, r in cold[0]] == [r.to_dict() for _, r in warm[0]]
    next(r for _, r in warm[0] if r.targets).targets.clear()  # a caller's copy: the remembered result stays whole
    assert [r.to_dict() for _, r in checked_ledger_targets(ledger)[0]] == [r.to_dict() for _, r in cold[0]]
