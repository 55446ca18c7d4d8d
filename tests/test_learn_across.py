"""A spelling one district writes, one character off the one other districts write (``_lone_typos``): a real
trial, where 历下区 wrote 区住房城乡建没局 on 25 rows and no occurrence count could tell it was a typo."""

import random
import time

import pytest
from conftest import CITY
from test_units_learn import write_ledger

from xltools.rollup import ConsolidateOptions, consolidate
from xltools.units.check import NameCheck
from xltools.units.learn import Tally, learn_across, learn_spellings, merge_learned

TYPO, RIGHT = "区住房城乡建没局", "区住房城乡建设局"


def _flagged(learned):
    return {key: (check.status, check.suggestions) for key, check in learned.items()}


def test_one_district_repeating_a_typo_is_flagged_however_often_it_writes_it():
    lixia, tianqiao, huaiyin = [TYPO] * 25 + ["区财政局"], [RIGHT] * 30, [RIGHT] * 31 + ["区财政局"]
    tally = Tally()
    for names in (lixia, tianqiao, huaiyin):
        tally.add(names)
    assert {k: (tally.counts[k], tally.districts[k]) for k in (TYPO, RIGHT)} == {TYPO: (25, 1), RIGHT: (61, 2)}
    learned = tally.learn()
    assert _flagged(learned) == {TYPO: ("typo", [RIGHT])}
    assert learned[TYPO].message == "“区住房城乡建没局”只有1个区县这样写，与2个区县写的“区住房城乡建设局”只差一个字，疑似写错"
    assert learned[TYPO].learned
    # The workers' chunk tallies merged in the parent learn the same.
    parts = [Tally() for _ in range(2)]
    parts[0].add(huaiyin)
    parts[1].add(lixia)
    parts[1].add(tianqiao)
    merged = Tally()
    for part in parts:
        merged.merge(part)
    assert {k: c.to_dict() for k, c in merged.learn().items()} == {k: c.to_dict() for k, c in learned.items()}
    assert {k: c.message for k, c in learn_across([lixia, tianqiao, huaiyin]).items()} == {
        k: c.message for k, c in learned.items()}


@pytest.mark.parametrize("others, flagged", [(1, False), (2, True), (3, True)])
def test_the_common_spelling_needs_two_districts(others, flagged):
    # One district against one is a difference of wording, not a majority; counts kept out of ``_typos``' reach.
    learned = learn_across([[TYPO] * 25] + [[RIGHT] * 30] * others)
    assert _flagged(learned) == ({TYPO: ("typo", [RIGHT])} if flagged else {})


def test_a_spelling_two_districts_write_is_not_a_lone_typo():
    assert learn_across([[TYPO] * 25, [TYPO] * 25, [RIGHT] * 30, [RIGHT] * 30, [RIGHT] * 30]) == {}


def test_two_districts_each_with_its_own_variant_of_an_official_name_five_write():
    official = "区人力资源社会保障局"
    districts = [[official] * 4] * 5 + [["区人力资原社会保障局"] * 12, ["区人力资源社会保瘴局"] * 9]
    learned = learn_across(districts)
    assert _flagged(learned) == {"区人力资原社会保障局": ("typo", [official]),
                                 "区人力资源社会保瘴局": ("typo", [official])}
    assert all("与5个区县写的“区人力资源社会保障局”只差一个字" in c.message for c in learned.values())


def test_the_suggestion_is_the_usual_written_form_of_the_spelling_most_districts_write():
    # Two common spellings one character from the typo: the one more districts write wins, in its usual form.
    districts = [[TYPO] * 20, [RIGHT] * 3, [RIGHT] * 3, ["区住房城乡建设 局"] * 7, ["区住房城乡建投局"] * 10,
                 ["区住房城乡建投局"] * 10]
    learned = learn_across(districts)
    assert learned[TYPO].suggestions == ["区住房城乡建设 局"]  # three districts, written so most often
    assert "与3个区县写的" in learned[TYPO].message


@pytest.mark.parametrize("lone, common", [
    ("区民政局", "区财政局"), ("区统计局", "区审计局"),  # short names: one character is another department
    ("区住建中心", "区住房中心"),  # one character short of TYPO_MIN_LENGTH
    ("区卫生健康委", "区卫生健康局"),  # each district's official name: another kind of unit
    ("市住房城乡建设局", "区住房城乡建设局"),  # the city's bureau, listed by a district
    ("县住房城乡建设局", "区住房城乡建设局"),  # a county's own name
    ("区第二人民医院", "区第一人民医院"),  # numbered units
    ("区发展与改革局", "区发展和改革局"),  # wording, which the rules across districts leave alone
])
def test_names_one_character_apart_that_are_different_units_are_not_flagged(lone, common):
    assert learn_across([[lone] * 10] + [[common] * 4] * 5) == {}  # too often for ``_typos``


def test_a_typo_in_the_unit_kind_is_still_a_typo():
    learned = learn_across([["区生态环境大局"] * 10] + [["区生态环境分局"] * 10] * 3)
    assert _flagged(learned) == {"区生态环境大局": ("typo", ["区生态环境分局"])}


def test_a_name_another_rule_finds_keeps_that_finding():
    # Written once: the rare spelling ``_typos`` finds first, with its own message.
    learned = learn_across([[TYPO]] + [[RIGHT] * 10] * 2)
    assert learned[TYPO].message.startswith("“区住房城乡建没局”只出现1次")
    # A short form is a short form: 区住建局 (4 characters) is never this rule's.
    learned = learn_across([["区住建局"] * 10] + [[RIGHT] * 10] * 2)
    assert learned["区住建局"].status == "alias"


def test_results_do_not_depend_on_the_order_districts_are_read_in():
    official = ["区人力资源社会保障局", RIGHT, "区市场监督管理局", "区卫生健康局", "区发展和改革局"]
    districts = [official * 4 for _ in range(6)] + [
        [TYPO] * 25 + official, ["区人力资原社会保障局"] * 8, ["区市场监督管里局", "区市场监督管埋局"] * 4,
        ["区住房城乡建设 局"] * 7, ["区发展和改革局"] * 3 + ["区发展与改革局"] * 3]
    expected = {k: c.to_dict() | {"message": c.message} for k, c in learn_across(districts).items()}
    assert {"区住房城乡建没局", "区人力资原社会保障局", "区市场监督管里局", "区市场监督管埋局"} <= set(expected)
    rng = random.Random(7)
    for _ in range(10):
        shuffled = [rng.sample(names, len(names)) for names in rng.sample(districts, len(districts))]
        assert {k: c.to_dict() | {"message": c.message} for k, c in learn_across(shuffled).items()} == expected


def test_lone_typos_across_thousands_of_districts_are_found_in_near_linear_time():
    # 3,000 districts: 2,000 names of 8 characters each written by several, 3,000 one district writes alone
    # (no near name: unique middles), 300 of them one character off a common one. Pairwise would be 6 million.
    def name(i, j):
        return f"区{chr(0x4e00 + i % 700)}{chr(0x5000 + i // 700)}{chr(0x5100 + j)}工作局"

    common = [name(i, 0) for i in range(2000)]
    districts = []
    for d in range(3000):
        names = [common[(d * 7 + k) % 2000] for k in range(6)] + [name(10_000 + d, 1)]
        if d % 10 == 0:  # four times: too often for ``_typos`` (a common name is written 9 times)
            names += [common[d // 10].replace("工作局", "工做局")] * 4
        districts.append(names)
    start = time.perf_counter()
    learned = learn_across(districts)
    elapsed = time.perf_counter() - start
    lone = {k for k, c in learned.items() if c.message.endswith("只差一个字，疑似写错")}
    assert lone == {common[i].replace("工作局", "工做局") for i in range(300)} and len(learned) == 300
    assert elapsed < 2, elapsed  # pairwise: seconds


def test_a_districts_short_form_of_its_typo_is_suggested_the_right_long_form():
    lixia = [TYPO] * 25 + ["区住建局"] * 3
    own = learn_spellings(lixia, typos=False)
    assert own["区住建局"].canonical == TYPO  # within 历下区 the typo is the long form it writes most
    across = learn_across([lixia, [RIGHT] * 30, [RIGHT] * 31])
    assert _flagged(across)[TYPO] == ("typo", [RIGHT])
    merged = merge_learned({k: across[k] for k in (TYPO, "区住建局") if k in across}, own)
    assert (merged["区住建局"].status, merged["区住建局"].canonical, merged["区住建局"].suggestions) == \
        ("alias", RIGHT, [RIGHT])
    assert merged["区住建局"].message == "“区住建局”是简称，应写全称“区住房城乡建设局”（本台账写的“区住房城乡建没局”疑似写错）"
    assert merged["区住建局"].learned and merged[TYPO] is across[TYPO]
    # A spelling the district writes less often than its typo, and the right one: not to be changed into it.
    variant = NameCheck(RIGHT, "alias", TYPO, [TYPO], message="“区住房城乡建设局”与“区住房城乡建没局”…")
    assert merge_learned({TYPO: across[TYPO]}, {RIGHT: variant}) == {TYPO: across[TYPO]}
    # Nothing to redirect: the district's own findings over those across districts, as before.
    plain = learn_spellings(["区住房城乡建设局"] * 5 + ["区住建局"], typos=False)
    assert merge_learned({TYPO: across[TYPO]}, plain) == {TYPO: across[TYPO], **plain}


def test_consolidate_reports_the_typo_one_district_repeats(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_ledger(inbox / "历下区_工作台账.csv", [(TYPO, "区财政局")] * 25)
    write_ledger(inbox / "天桥区_工作台账.csv", [(RIGHT, "区财政局")] * 30)
    write_ledger(inbox / "槐荫区_工作台账.csv", [(RIGHT, "")] * 31)
    rollup = consolidate(CITY, inbox, None, ConsolidateOptions(use_archive=False, workers=1))
    rare = {(p.file, p.value, p.suggestion) for p in rollup.problems if p.type == "unit-rare-spelling"}
    assert rare == {("历下区_工作台账.csv", TYPO, RIGHT)}
    assert len([p for p in rollup.problems if p.type == "unit-rare-spelling"]) == 25  # every row, as written
