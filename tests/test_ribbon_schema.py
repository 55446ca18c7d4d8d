"""The add-in ribbons are valid Custom UI documents (tests/customui.py: the [MS-CUSTOMUI] / [MS-CUSTOMUI2] schema
and the rules of its section 2.3), and the checker catches real mistakes, so that the first test cannot pass by
checking nothing."""

from pathlib import Path

import pytest
from customui import NS_2006, NS_2009, SCHEMAS, check, check_file
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
EXCEL = ROOT / "macros" / "customUI14.xml"
WPS = ROOT / "xltools" / "desk" / "wps" / "ribbon.xml"
RIBBONS = sorted(ROOT.glob("macros/customUI*.xml")) + ([WPS] if WPS.exists() else [])


def test_the_excel_ribbon_is_among_those_checked():
    assert EXCEL in RIBBONS


@pytest.mark.parametrize("path", RIBBONS, ids=[str(p.relative_to(ROOT)) for p in RIBBONS])
def test_ribbon_is_valid_under_the_schema_of_its_namespace(path):
    namespace = etree.QName(etree.parse(str(path)).getroot()).namespace
    assert namespace in SCHEMAS, f"{path.name}: {namespace} is not a Custom UI namespace"
    assert check_file(path) == []


def test_the_excel_ribbon_is_customui14():
    assert etree.QName(etree.parse(str(EXCEL)).getroot()).namespace == NS_2009


# --- mutated copies of the Excel ribbon: each mistake is reported, naming the element and attribute ------------

def mutated(change) -> list[str]:
    root = etree.parse(str(EXCEL)).getroot()
    change(root)
    return check(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def buttons(root):
    return root.findall(f".//{{{NS_2009}}}button")


def only(errors, *words):
    """The one error, which must name every word given."""
    assert len(errors) == 1, errors
    for word in words:
        assert word in errors[0], (word, errors[0])
    return errors[0]


def test_duplicate_id():
    def change(root):
        buttons(root)[1].set("id", "xltoolsPlanToLedger")
    only(mutated(change), '<button id="xltoolsPlanToLedger">', "already used", "ST_UniqueID")


def test_label_and_getlabel_together():
    only(mutated(lambda root: buttons(root)[0].set("getLabel", "GetLabel")),
         '<button id="xltoolsPlanToLedger">', "label and getLabel")


def test_size_outside_its_enumeration():
    only(mutated(lambda root: buttons(root)[0].set("size", "huge")),
         '<button id="xltoolsPlanToLedger">', 'size="huge"', "normal, large")


def test_button_directly_under_tab():
    def change(root):
        tab = root.find(f".//{{{NS_2009}}}tab")
        tab.append(buttons(root)[0])  # moved out of its group
    only(mutated(change), '<button id="xltoolsPlanToLedger">', "not allowed inside", '<tab id="xltoolsTab">',
         "allowed: group")


def test_unknown_attribute():
    only(mutated(lambda root: buttons(root)[0].set("colour", "red")),
         '<button id="xltoolsPlanToLedger">', "unknown attribute colour")


def test_empty_label():
    only(mutated(lambda root: buttons(root)[0].set("label", "")),
         '<button id="xltoolsPlanToLedger">', 'label=""', "ST_String")


def test_supertip_is_an_st_string_of_at_most_1024_characters():
    only(mutated(lambda root: buttons(root)[0].set("supertip", "字" * 1025)),
         '<button id="xltoolsPlanToLedger">', "supertip", "longer than 1024")
    assert mutated(lambda root: buttons(root)[0].set("supertip", "字" * 1024)) == []


def test_control_without_an_id():
    def change(root):
        del buttons(root)[0].attrib["id"]
    only(mutated(change), "<button>", "exactly one of id, idQ, idMso")


def test_id_and_idmso_together():
    only(mutated(lambda root: buttons(root)[0].set("idMso", "FileSave")),
         '<button id="xltoolsPlanToLedger">', "id, idMso are mutually exclusive")


def test_image_and_getimage_together():
    only(mutated(lambda root: buttons(root)[0].set("getImage", "GetImage")),
         '<button id="xltoolsPlanToLedger">', "imageMso, getImage are mutually exclusive")


def test_id_that_is_not_an_ncname():
    only(mutated(lambda root: buttons(root)[0].set("id", "2 buttons")),
         'id="2 buttons"', "not a valid ST_UniqueID")


def test_keytip_of_four_characters():
    only(mutated(lambda root: buttons(root)[0].set("keytip", "ABCD")), "keytip", "ST_Keytip")


def test_onload_only_on_customui():
    only(mutated(lambda root: root[0].set("onLoad", "OnLoad")), "<ribbon>", "unknown attribute onLoad")
    assert mutated(lambda root: root.set("onLoad", "OnLoad")) == []


def test_startfromscratch_is_a_boolean():
    only(mutated(lambda root: root[0].set("startFromScratch", "yes")), "<ribbon>", "startFromScratch", "boolean")


def test_a_group_holds_at_most_1000_controls():
    def change(root):
        group = root.find(f".//{{{NS_2009}}}group")
        for i in range(1001 - len(group)):
            etree.SubElement(group, f"{{{NS_2009}}}button", id=f"extra{i}", label="x")
    only(mutated(change), '<group id="xltoolsLedger">', "CT_Group", "content model")


def test_tabs_needs_a_tab():
    def change(root):
        tabs = root.find(f".//{{{NS_2009}}}tabs")
        tabs.remove(tabs[0])
    only(mutated(change), "<tabs>", "CT_Tabs")


def test_unknown_element_and_foreign_namespace():
    def change(root):
        group = root.find(f".//{{{NS_2009}}}group")
        etree.SubElement(group, f"{{{NS_2009}}}widget", id="w")
        etree.SubElement(group, f"{{{NS_2006}}}button", id="old", label="x")
    errors = mutated(change)
    assert len(errors) == 2, errors
    assert "<widget" in errors[0] and "not allowed inside" in errors[0]
    assert NS_2006 in errors[1] and "not in the document's Custom UI namespace" in errors[1]


def test_dialog_box_launcher_comes_last_in_a_group():
    def change(root):
        group = root.find(f".//{{{NS_2009}}}group")
        launcher = etree.Element(f"{{{NS_2009}}}dialogBoxLauncher")
        etree.SubElement(launcher, f"{{{NS_2009}}}button", id="launch")
        group.insert(0, launcher)
    only(mutated(change), '<group id="xltoolsLedger">', "dialogBoxLauncher, button, button")


def test_errors_carry_the_file_s_line_numbers():
    line = next(n for n, text in enumerate(EXCEL.read_text(encoding="utf-8").splitlines(), 1)
                if 'id="xltoolsPlanToLedger"' in text)
    text = EXCEL.read_text(encoding="utf-8").replace('size="large" imageMso="TableInsert"',
                                                     'size="huge" imageMso="TableInsert"')
    assert only(check(text)).startswith(f'line {line}: <button id="xltoolsPlanToLedger">: attribute size="huge"')


# --- the two namespaces have their own vocabularies -------------------------------------------------------------

WPS_LIKE = f"""<customUI xmlns="{NS_2006}" onLoad="OnAddinLoad">
  <ribbon startFromScratch="false"><tabs><tab id="t" label="台账工具"><group id="g" label="台账">
    <button id="b" tag="plan_to_ledger" label="从方案生成台账" size="large" getImage="GetImage" onAction="OnAction"
            getEnabled="OnGetEnabled" screentip="从方案生成台账" supertip="说明"/>
    <separator id="s"/><toggleButton id="tb" label="开关" getPressed="GetPressed" onAction="OnAction"/>
  </group></tab></tabs></ribbon>
</customUI>"""


def test_a_wps_shaped_2006_document_with_js_callbacks_is_valid():
    assert check(WPS_LIKE) == []


def test_backstage_is_2009_only():
    doc = WPS_LIKE.replace("</customUI>", '<backstage><button idMso="FileSave"/></backstage></customUI>')
    only(check(doc), "<backstage", "not allowed inside <customUI>", "allowed: commands, ribbon")
    assert check(doc.replace(NS_2006, NS_2009)) == []


def test_tag_on_a_separator_is_2009_only():
    doc = WPS_LIKE.replace('<separator id="s"/>', '<separator id="s" tag="x"/>')
    only(check(doc), '<separator id="s">', "unknown attribute tag")
    assert check(doc.replace(NS_2006, NS_2009)) == []


def test_not_a_custom_ui_document():
    assert "not a Custom UI namespace" in only(check('<customUI xmlns="urn:other"/>'))
    assert "not well-formed" in only(check("<customUI"))
