"""A checker for Office Custom UI (ribbon) documents, for the tests.

Two namespaces, each with its own rules:

- ``http://schemas.microsoft.com/office/2006/01/customui`` (Office 2007's "customUI.xml"; WPS reads it too):
  [MS-CUSTOMUI] "Custom UI XML Markup Specification".
- ``http://schemas.microsoft.com/office/2009/07/customui`` (Office 2010+ "customUI14.xml"):
  [MS-CUSTOMUI2] "Custom UI XML Markup Version 2 Specification". Section numbers below (2.3.x complex types,
  2.4.x simple types, 5.1 the full schema) are that document's; the 2006 document uses the same type names.

Where the rules come from. The tables below restate the W3C XML Schemas of those two documents (their section
5.1) -- every element, where it may stand, in what order and how many times, which attributes it takes and of what
simple type -- written here as data rather than shipped as .xsd files: the complete schema text that could be
reached from this project was a third-party repository's copy, and public-repository text is kept out of this
repository. Microsoft's Open Specifications notice allows shipping the schemas themselves; someone with the
documents at hand may add them under tests/data/customui/ and validate with lxml.etree.XMLSchema beside this.

On top of the schema the checker applies the prose rules of section 2.3 that a schema cannot express (each type's
attribute descriptions in [MS-CUSTOMUI2] 2.3.x say so in the same words):

- "The id, idQ, and idMso attributes are mutually exclusive. Exactly one of these attributes MUST be specified on
  all controls" -- on every element whose type declares any of them, except items (CT_Item, CT_BackstageItem),
  whose id is optional.
- "All custom controls MUST have unique identifiers" (ST_UniqueID, 2.4.27): every id of type ST_UniqueID is unique
  in the document. (The schema's xsd:ID says the same.) A QAT ``control``'s id is an ST_ID -- a reference -- but
  ids MUST be unique within the QAT (CT_Ribbon 2.3.66, the qatControls unique constraint).
- A property and its callback "are mutually exclusive. They MUST NOT be used together": label/getLabel,
  screentip/getScreentip, supertip/getSupertip, size/getSize, enabled/getEnabled, visible/getVisible, ...;
  image, imageMso and getImage: at most one.
- insertAfterMso, insertBeforeMso, insertAfterQ and insertBeforeQ: at most one.
- ST_QID values (idQ, insertAfterQ, insertBeforeQ) are QNames whose prefix MUST be a namespace in scope.

Lengths: label, screentip, supertip and tag are ST_String, 1..1024 characters, in both schemas (supertip is not an
ST_LongString); description, altText and helperText are ST_LongString, 1..4096; callbacks (ST_Delegate) 1..1024.

lxml (parsing with line numbers) comes with python-docx, a dependency of xltools.

``check(data)`` returns a list of messages, each naming the line, the element (with its id) and the attribute; an
empty list means the document is valid.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

NS_2006 = "http://schemas.microsoft.com/office/2006/01/customui"
NS_2009 = "http://schemas.microsoft.com/office/2009/07/customui"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# --- simple types (2.4) -------------------------------------------------------------------------------------------

# XML 1.0 (5th ed.) NameStartChar / NameChar, without ':' (Namespaces in XML: NCName).
_START = ("A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
          "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff")
_CHAR = _START + r"\-.0-9\u00b7\u0300-\u036f\u203f-\u2040"
NCNAME = re.compile(f"[{_START}][{_CHAR}]*")
QNAME = re.compile(f"(?:(?P<prefix>{NCNAME.pattern}):)?{NCNAME.pattern}")


def _collapse(value: str) -> str:
    return " ".join(value.split())


class Simple:
    """A simple type: its name (for messages), a whitespace rule, a lexical check and length/range facets."""

    def __init__(self, name, *, pattern=None, minlen=None, maxlen=None, collapse=False, enum=None, lo=None,
                 hi=None):
        self.name, self.pattern, self.minlen, self.maxlen = name, pattern, minlen, maxlen
        self.collapse, self.enum, self.lo, self.hi = collapse, enum, lo, hi

    def problem(self, raw: str) -> str | None:
        """Why ``raw`` is not a value of this type, or None."""
        value = _collapse(raw) if self.collapse else raw
        if self.enum is not None:
            if value not in self.enum:
                return f"is not one of: {', '.join(self.enum)} ({self.name})"
            return None
        if self.lo is not None:  # an integer range (xsd:positiveInteger and friends)
            if not re.fullmatch(r"\+?[0-9]+", value):
                return f"is not a whole number ({self.name}: {self.lo}..{self.hi})"
            if not self.lo <= int(value) <= self.hi:
                return f"is out of range ({self.name}: {self.lo}..{self.hi})"
            return None
        if self.minlen is not None and len(value) < self.minlen:
            return f"is shorter than {self.minlen} character ({self.name}: {self.minlen}..{self.maxlen} characters)"
        if self.maxlen is not None and len(value) > self.maxlen:
            return f"is {len(value)} characters, longer than {self.maxlen} ({self.name})"
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return f"is not a valid {self.name}"
        return None


# 2.4.22 ST_QID, 2.4.17 ST_ID, 2.4.27 ST_UniqueID (xsd:QName / xsd:NCName / xsd:ID, 1..1024 characters),
# 2.4.12 ST_Delegate, 2.4.24 ST_String (xsd:string, 1..1024), ST_LongString (1..4096), ST_Uri (1..1024),
# ST_Keytip (xsd:token, 1..3), ST_Size, ST_ItemSize, ST_BoxStyle, ST_StringLength, ST_GalleryRowColumnCount,
# ST_GalleryItemWidthHeight, ST_GalleryShowInRibbon and ST_TaskSizes; xsd:boolean.
QID = Simple("ST_QID", pattern=QNAME, minlen=1, maxlen=1024, collapse=True)
ID = Simple("ST_ID", pattern=NCNAME, minlen=1, maxlen=1024, collapse=True)
UNIQUE_ID = Simple("ST_UniqueID", pattern=NCNAME, minlen=1, maxlen=1024, collapse=True)
DELEGATE = Simple("ST_Delegate", minlen=1, maxlen=1024)
STRING = Simple("ST_String", minlen=1, maxlen=1024)
LONG_STRING = Simple("ST_LongString", minlen=1, maxlen=4096)
URI = Simple("ST_Uri", minlen=1, maxlen=1024)
KEYTIP = Simple("ST_Keytip", minlen=1, maxlen=3, collapse=True)
BOOLEAN = Simple("xsd:boolean", enum=("true", "false", "1", "0"), collapse=True)
SIZE = Simple("ST_Size", enum=("normal", "large"))
ITEM_SIZE = Simple("ST_ItemSize", enum=("normal", "large"))
BOX_STYLE = Simple("ST_BoxStyle", enum=("horizontal", "vertical"))
STRING_LENGTH = Simple("ST_StringLength", lo=1, hi=1024, collapse=True)
ROW_COLUMN_COUNT = Simple("ST_GalleryRowColumnCount", lo=1, hi=1024, collapse=True)
ITEM_WIDTH_HEIGHT = Simple("ST_GalleryItemWidthHeight", lo=1, hi=4096, collapse=True)
SHOW_IN_RIBBON = Simple("ST_GalleryShowInRibbon", enum=("false", "0"))
TASK_SIZES = Simple("ST_TaskSizes", enum=("largeMediumSmall", "largeMedium", "large", "mediumSmall", "medium",
                                          "small"))
ALIGN = Simple("alignment", enum=("topLeft", "top", "topRight", "left", "center", "right", "bottomLeft", "bottom",
                                  "bottomRight"))
EXPAND = Simple("ST_expand", enum=("horizontal", "vertical", "both", "neither"))  # 2.4.13
GROUP_STYLE = Simple("group style", enum=("normal", "warning", "error"))
BUTTON_STYLE = Simple("ST_style1", enum=("normal", "borderless", "large"))  # 2.4.10
LAYOUT_CHILDREN = Simple("layoutChildren", enum=("horizontal", "vertical"))
PERCENT = Simple("columnWidthPercent", lo=1, hi=99, collapse=True)
PIXELS = Simple("column width", lo=1, hi=10000, collapse=True)

# --- the rules beyond the schema ------------------------------------------------------------------------------------

ID_ATTRIBUTES = ("id", "idQ", "idMso")
POSITION = ("insertAfterMso", "insertBeforeMso", "insertAfterQ", "insertBeforeQ")
IMAGE = ("image", "imageMso", "getImage")
# a property and the callback that gives it: "mutually exclusive. They MUST NOT be used together" (2.3.x)
STATIC_AND_CALLBACK = [(p, "get" + p[0].upper() + p[1:]) for p in (
    "label", "screentip", "supertip", "keytip", "description", "enabled", "visible", "size", "showLabel",
    "showImage", "title", "altText", "helperText", "style", "target")]

# --- complex types (2.3) ------------------------------------------------------------------------------------------


class Complex:
    """An element type: its attributes (name -> Simple), the types of its children (name -> type name), a
    content model (a regular expression over the children's names, each followed by a space), the attributes it
    requires, and whether it is an item (whose id is optional)."""

    def __init__(self, name, attrs, children=None, model="", required=(), item=False, describe=None):
        self.name, self.attrs, self.children = name, dict(attrs), dict(children or {})
        self.model = re.compile(model)
        self.describe = describe or model.replace("(?:", "(").replace(" )", ")").replace(" ", "") or "(empty)"
        self.required, self.item = tuple(required), item


def rep(names, lo=0, hi=1000):
    """``names`` (a choice), repeated lo..hi times, as a content-model regex."""
    return f"(?:(?:{'|'.join(names)}) ){{{lo},{hi}}}"


def opt(name):
    return f"(?:{name} )?"


def without(attrs, *names):
    return {k: v for k, v in attrs.items() if k not in names}


def build(ns: str) -> dict[str, Complex]:
    """The element types of one namespace, by name; 'customUI' and 'menu' (dynamicMenu content) are roots."""
    v2 = ns == NS_2009
    ag_id_custom = {"id": UNIQUE_ID, "idQ": QID} | ({"tag": STRING} if v2 else {})  # 2006: tag via AG_Tag only
    ag_id_mso = {"idMso": ID}
    ag_id = ag_id_custom | ag_id_mso | {"tag": STRING}
    ag_title = {"title": STRING, "getTitle": DELEGATE}
    ag_image = {"image": URI, "imageMso": ID, "getImage": DELEGATE}
    ag_enabled = {"enabled": BOOLEAN, "getEnabled": DELEGATE}
    ag_position = {"insertAfterMso": ID, "insertBeforeMso": ID, "insertAfterQ": QID, "insertBeforeQ": QID}
    ag_visible = {"visible": BOOLEAN, "getVisible": DELEGATE}
    ag_label = {"label": STRING, "getLabel": DELEGATE}
    ag_keytip = {"keytip": KEYTIP, "getKeytip": DELEGATE}
    ag_screentip = {"screentip": STRING, "getScreentip": DELEGATE, "supertip": STRING, "getSupertip": DELEGATE}
    ag_description = {"description": LONG_STRING, "getDescription": DELEGATE}
    ag_alt_text = {"altText": LONG_STRING, "getAltText": DELEGATE}
    ag_show_label = {"showLabel": BOOLEAN, "getShowLabel": DELEGATE}
    ag_helper_text = {"helperText": LONG_STRING, "getHelperText": DELEGATE}
    ag_ui = ag_enabled | ag_label | ag_position | ag_visible | ag_keytip
    ag_item = ag_image | ag_screentip | ag_ui
    ag_control = ag_item | ag_show_label | {"showImage": BOOLEAN, "getShowImage": DELEGATE}
    ag_action = {"onAction": DELEGATE}
    ag_pressed = {"getPressed": DELEGATE}
    ag_definitive = {"isDefinitive": BOOLEAN}
    ag_size = {"size": SIZE, "getSize": DELEGATE}
    ag_dropdown = {"showItemImage": BOOLEAN, "getItemCount": DELEGATE, "getItemLabel": DELEGATE,
                   "getItemScreentip": DELEGATE, "getItemSupertip": DELEGATE, "getItemImage": DELEGATE,
                   "getItemID": DELEGATE, "sizeString": STRING}
    ag_get_content = {"getContent": DELEGATE}  # use="required"
    ag_dynamic = {"invalidateContentOnDrop": BOOLEAN}
    ag_align = {"alignLabel": ALIGN}
    ag_expand = {"expand": EXPAND}
    ag_group_style = {"style": GROUP_STYLE, "getStyle": DELEGATE}
    ag_button_style = {"style": BUTTON_STYLE}

    t: dict[str, Complex] = {}

    def ct(name, attrs, children=None, model="", required=(), item=False, describe=None):
        t[name] = Complex(name, attrs, children, model, required, item, describe)

    control_base = ag_control
    control = control_base | ag_id
    button_regular = control | ag_action | ag_enabled | ag_description | ag_image  # 2.3.26
    toggle_regular = button_regular | ag_pressed
    edit_box = control | ag_enabled | ag_image | {"maxLength": STRING_LENGTH, "getText": DELEGATE,
                                                  "onChange": DELEGATE, "sizeString": STRING}
    dropdown_regular = control | ag_action | ag_enabled | ag_image | ag_dropdown | {
        "getSelectedItemID": DELEGATE, "getSelectedItemIndex": DELEGATE, "showItemLabel": BOOLEAN}
    gallery_regular = dropdown_regular | ag_description | ag_dynamic | {
        "columns": ROW_COLUMN_COUNT, "rows": ROW_COLUMN_COUNT, "itemWidth": ITEM_WIDTH_HEIGHT,
        "itemHeight": ITEM_WIDTH_HEIGHT, "getItemWidth": DELEGATE, "getItemHeight": DELEGATE,
        "showItemLabel": BOOLEAN} | ({"showInRibbon": SHOW_IN_RIBBON} if v2 else {})
    menu_regular = control_base | {"itemSize": ITEM_SIZE} | ag_description | ag_id
    dynamic_menu_regular = control_base | ag_description | ag_id | ag_get_content | ag_dynamic
    split_restricted = without(control | ag_enabled, "label", "getLabel", "screentip", "getScreentip", "supertip",
                               "getSupertip", "image", "imageMso", "getImage", "showImage", "getShowImage")

    ct("CT_Command", ag_action | ag_enabled | ag_id_mso)
    ct("CT_ControlCloneRegular", without(control, "id"))
    ct("CT_ControlClone", without(button_regular | ag_size, "id", "onAction"))  # 2.3.36
    ct("CT_ControlCloneQat", control_base | {"id": ID, "idQ": QID} | ag_id_mso | ag_description | ag_size)
    ct("CT_LabelControl", without(control, "image", "imageMso", "getImage", "keytip", "getKeytip", "showImage",
                                  "getShowImage"))  # 2.3.54
    ct("CT_ButtonRegular", button_regular)  # 2.3.26
    ct("CT_Button", button_regular | ag_size)  # 2.3.24
    ct("CT_VisibleButton", without(button_regular, "visible", "getVisible"))
    ct("CT_ToggleButtonRegular", toggle_regular)
    ct("CT_ToggleButton", toggle_regular | ag_size)  # 2.3.83
    ct("CT_VisibleToggleButton", without(toggle_regular, "visible", "getVisible"))
    ct("CT_CheckBox", without(toggle_regular, "image", "imageMso", "getImage", "showImage", "getShowImage",
                              "showLabel", "getShowLabel"))  # 2.3.27
    ct("CT_EditBox", edit_box)  # 2.3.44
    ct("CT_Item", {"id": UNIQUE_ID, "label": STRING, "image": URI, "imageMso": ID, "screentip": STRING,
                   "supertip": STRING}, item=True)
    ct("CT_ComboBox", edit_box | ag_dropdown | ag_dynamic, {"item": "CT_Item"}, rep(["item"]))  # 2.3.28
    dropdown_children = {"item": "CT_Item", "button": "CT_ButtonRegular"}
    dropdown_model = rep(["item"]) + rep(["button"], 0, 16)
    ct("CT_DropDownRegular", dropdown_regular, dropdown_children, dropdown_model)  # 2.3.41
    ct("CT_GalleryRegular", gallery_regular, dropdown_children, dropdown_model)
    ct("CT_Gallery", gallery_regular | ag_size, dropdown_children, dropdown_model)  # 2.3.45

    menu_controls_base = {"control": "CT_ControlCloneRegular", "button": "CT_ButtonRegular",
                          "checkBox": "CT_CheckBox", "gallery": "CT_GalleryRegular",
                          "toggleButton": "CT_ToggleButtonRegular", "menuSeparator": "CT_MenuSeparator"}
    menu_or_split_regular = {"splitButton": "CT_SplitButtonRegular", "menu": "CT_MenuRegular",
                             "dynamicMenu": "CT_DynamicMenuRegular"}
    menu_or_split_with_title = {"splitButton": "CT_SplitButtonWithTitle", "menu": "CT_MenuWithTitle",
                                "dynamicMenu": "CT_DynamicMenuRegular"}
    regular_menu_children = menu_controls_base | menu_or_split_regular
    titled_menu_children = menu_controls_base | menu_or_split_with_title
    ct("CT_MenuRegular", menu_regular, regular_menu_children, rep(regular_menu_children))
    ct("CT_Menu", menu_regular | ag_size, regular_menu_children, rep(regular_menu_children))  # 2.3.56
    ct("CT_MenuWithTitle", control_base | ag_id | {"itemSize": ITEM_SIZE} | ag_title, titled_menu_children,
       rep(titled_menu_children))
    ct("CT_DynamicMenuRegular", dynamic_menu_regular, required=["getContent"])
    ct("CT_DynamicMenu", dynamic_menu_regular | ag_size, required=["getContent"])  # 2.3.42
    split_model = f"(?:{opt('(?:button|toggleButton)')}menu )?"  # ((button | toggleButton)? menu)?
    split_children = {"button": "CT_VisibleButton", "toggleButton": "CT_VisibleToggleButton"}
    ct("CT_SplitButtonRegular", split_restricted, split_children | {"menu": "CT_MenuRegular"}, split_model)
    ct("CT_SplitButtonWithTitle", split_restricted, split_children | {"menu": "CT_MenuWithTitle"}, split_model)
    ct("CT_SplitButton", split_restricted | ag_size, split_children | {"menu": "CT_MenuRegular"},
       split_model)  # 2.3.69, 2.3.72

    controls = {"control": "CT_ControlClone", "labelControl": "CT_LabelControl", "button": "CT_Button",
                "toggleButton": "CT_ToggleButton", "checkBox": "CT_CheckBox", "editBox": "CT_EditBox",
                "comboBox": "CT_ComboBox", "dropDown": "CT_DropDownRegular", "gallery": "CT_Gallery",
                "menu": "CT_Menu", "dynamicMenu": "CT_DynamicMenu", "splitButton": "CT_SplitButton",
                "box": "CT_Box", "buttonGroup": "CT_ButtonGroup"}  # EG_Controls
    ct("CT_DialogLauncher", {}, {"button": "CT_ButtonRegular"}, "button ")  # 2.3.40
    ct("CT_Box", ag_id_custom | ag_visible | ag_position | {"boxStyle": BOX_STYLE}, controls, rep(controls))
    ct("CT_Separator", ag_id_custom | ag_visible | ag_position)  # 2.3.67
    ct("CT_MenuSeparator", ag_id_custom | ag_position | ag_title)  # 2.3.59
    button_group = {"control": "CT_ControlCloneRegular", "button": "CT_ButtonRegular",
                    "toggleButton": "CT_ToggleButtonRegular", "gallery": "CT_GalleryRegular",
                    "menu": "CT_MenuRegular", "dynamicMenu": "CT_DynamicMenuRegular",
                    "splitButton": "CT_SplitButtonRegular"}
    ct("CT_ButtonGroup", ag_id_custom | ag_visible | ag_position, button_group, rep(button_group))  # 2.3.25
    group_children = controls | {"separator": "CT_Separator", "dialogBoxLauncher": "CT_DialogLauncher"}
    ct("CT_Group", ag_id | ag_label | ag_image | ag_position | ag_screentip | ag_visible | ag_keytip
       | ({"autoScale": BOOLEAN, "centerVertically": BOOLEAN} if v2 else {}),
       group_children, rep(list(controls) + ["separator"]) + opt("dialogBoxLauncher"))  # 2.3.47
    ct("CT_Tab", ag_id | ag_label | ag_position | ag_visible | ag_keytip, {"group": "CT_Group"},
       rep(["group"], 0, 100))  # 2.3.74
    qat_items = {"control": "CT_ControlCloneQat", "button": "CT_ButtonRegular", "separator": "CT_Separator"}
    ct("CT_QatItems", {}, qat_items, rep(qat_items))
    ct("CT_Qat", {}, {"sharedControls": "CT_QatItems", "documentControls": "CT_QatItems"},
       opt("sharedControls") + opt("documentControls"))  # 2.3.63
    ct("CT_Tabs", {}, {"tab": "CT_Tab"}, rep(["tab"], 1, 100))  # 2.3.75
    ct("CT_TabSet", {"idMso": ID} | ag_visible, {"tab": "CT_Tab"}, rep(["tab"], 0, 50))  # 2.3.76; idMso required
    ct("CT_ContextualTabs", {}, {"tabSet": "CT_TabSet"}, rep(["tabSet"], 1, 100))  # 2.3.33
    ct("CT_Commands", {}, {"command": "CT_Command"}, rep(["command"], 1, 5000))  # 2.3.30
    ribbon = {"qat": "CT_Qat", "tabs": "CT_Tabs", "contextualTabs": "CT_ContextualTabs"}
    if not v2:
        ribbon = {"officeMenu": "CT_OfficeMenu"} | ribbon
        ct("CT_OfficeMenu", {}, titled_menu_children, rep(titled_menu_children))
    # xsd:all: each at most once, in any order
    ct("CT_Ribbon", {"startFromScratch": BOOLEAN}, ribbon,
       "".join(f"(?!(?:.* )?{n} (?:.* )?{n} )" for n in ribbon) + rep(ribbon, 0, len(ribbon)),
       describe=f"(each of {', '.join(ribbon)} at most once, in any order)")  # 2.3.66
    ct("CT_MenuRoot", ag_title | {"itemSize": ITEM_SIZE}, regular_menu_children, rep(regular_menu_children))
    custom_ui = {"commands": "CT_Commands", "ribbon": "CT_Ribbon"}
    if v2:
        custom_ui |= {"backstage": "CT_Backstage", "contextMenus": "CT_ContextMenus"}
    ct("CT_CustomUI", {"onLoad": DELEGATE, "loadImage": DELEGATE}, custom_ui,
       "".join(opt(n) for n in custom_ui))  # 2.3.39
    if not v2:
        return t

    # contextMenus (2009/07 only)
    ct("CT_MenuSeparatorNoTitle", ag_id_custom | ag_position)  # 2.3.60
    context_menu = {"control": "CT_ControlCloneRegular", "button": "CT_ButtonRegular", "checkBox": "CT_CheckBox",
                    "gallery": "CT_GalleryRegular", "toggleButton": "CT_ToggleButtonRegular",
                    "splitButton": "CT_SplitButtonRegular", "menu": "CT_MenuRegular",
                    "dynamicMenu": "CT_DynamicMenuRegular", "menuSeparator": "CT_MenuSeparatorNoTitle"}
    ct("CT_ContextMenu", ag_id_mso, context_menu, rep(context_menu))
    ct("CT_ContextMenus", {}, {"contextMenu": "CT_ContextMenu"}, rep(["contextMenu"], 1, 1000))  # 2.3.32

    # backstage (2009/07 only)
    backstage_button_base = ag_id_custom | ag_action | ag_definitive | ag_enabled | ag_label | ag_visible \
        | ag_keytip | ag_image  # 2.3.2
    ct("CT_BackstageRegularButton", backstage_button_base | ag_screentip)  # 2.3.20
    ct("CT_BackstageGroupButton", backstage_button_base | ag_screentip | ag_expand | ag_button_style)  # 2.3.10
    ct("CT_BackstageMenuButton", backstage_button_base | ag_description)  # 2.3.15
    ct("CT_BackstageFastCommandButton", backstage_button_base | ag_id_mso | ag_position)  # 2.3.8
    check_box_base = ag_id_custom | ag_action | ag_pressed | ag_enabled | ag_label | ag_visible | ag_keytip
    ct("CT_BackstageCheckBox", check_box_base | ag_expand | ag_description | ag_screentip)
    ct("CT_BackstageMenuCheckBox", check_box_base | ag_description)  # 2.3.16
    ct("CT_BackstageMenuToggleButton", check_box_base | ag_description | ag_image)  # 2.3.18
    field = ag_id_custom | ag_align | ag_expand | ag_enabled | ag_label | ag_visible
    item_callbacks = {"getItemCount": DELEGATE, "getItemLabel": DELEGATE, "getItemID": DELEGATE}
    ct("CT_BackstageEditBox", field | ag_keytip | {"getText": DELEGATE, "onChange": DELEGATE,
                                                   "maxLength": STRING_LENGTH, "sizeString": STRING})
    ct("CT_BackstageItem", {"id": UNIQUE_ID} | ag_label, item=True)
    items = {"item": "CT_BackstageItem"}
    ct("CT_BackstageDropDown", field | ag_action | ag_screentip | ag_keytip | item_callbacks
       | {"getSelectedItemIndex": DELEGATE, "sizeString": STRING}, items, rep(["item"]))
    ct("CT_RadioGroup", field | ag_action | ag_keytip | item_callbacks | {"getSelectedItemIndex": DELEGATE},
       {"radioButton": "CT_BackstageItem"}, rep(["radioButton"]))
    ct("CT_BackstageComboBox", field | ag_keytip | item_callbacks
       | {"getText": DELEGATE, "onChange": DELEGATE, "sizeString": STRING}, items, rep(["item"]))
    ct("CT_Hyperlink", field | ag_keytip | ag_action | ag_image | ag_screentip
       | {"target": STRING, "getTarget": DELEGATE})
    ct("CT_BackstageLabelControl", field | {"noWrap": BOOLEAN})
    menu_base = ag_id_custom | ag_enabled | ag_label | ag_visible | ag_image | ag_keytip
    ct("CT_BackstagePrimaryMenu", menu_base | ag_screentip, {"menuGroup": "CT_BackstageMenuGroup"},
       rep(["menuGroup"]))
    ct("CT_BackstageSubMenu", menu_base | ag_description, {"menuGroup": "CT_BackstageMenuGroup"},
       rep(["menuGroup"]))  # 2.3.21
    ct("CT_PrimaryItem", {}, {"button": "CT_BackstageRegularButton", "menu": "CT_BackstagePrimaryMenu"},
       "(?:button |menu )")
    menu_controls = {"button": "CT_BackstageMenuButton", "checkBox": "CT_BackstageMenuCheckBox",
                     "menu": "CT_BackstageSubMenu", "toggleButton": "CT_BackstageMenuToggleButton"}
    ct("CT_BackstageMenuGroup", ag_id_custom | ag_label | {"itemSize": ITEM_SIZE}, menu_controls,
       rep(menu_controls))  # 2.3.17
    ct("CT_ImageControl", ag_id_custom | ag_enabled | ag_visible | ag_image | ag_alt_text)
    group_controls = {"button": "CT_BackstageGroupButton", "checkBox": "CT_BackstageCheckBox",
                      "editBox": "CT_BackstageEditBox", "dropDown": "CT_BackstageDropDown",
                      "radioGroup": "CT_RadioGroup", "comboBox": "CT_BackstageComboBox",
                      "hyperlink": "CT_Hyperlink", "labelControl": "CT_BackstageLabelControl",
                      "groupBox": "CT_GroupBox", "layoutContainer": "CT_LayoutContainer",
                      "imageControl": "CT_ImageControl"}  # EG_GroupControls
    # CT_GroupControls: a choice 0..1000 of EG_GroupControls 0..1000 -- unbounded for any real document
    ct("CT_GroupControls", {}, group_controls, f"(?:(?:{'|'.join(group_controls)}) )*")
    ct("CT_GroupBox", ag_id_custom | ag_expand | ag_label, group_controls, rep(group_controls))
    ct("CT_LayoutContainer", ag_id_custom | {"align": ALIGN, "expand": EXPAND, "layoutChildren": LAYOUT_CHILDREN},
       group_controls, rep(group_controls))
    ct("CT_BackstageGroup", ag_id | ag_position | ag_label | ag_visible | ag_group_style | ag_helper_text
       | ag_show_label, {"primaryItem": "CT_PrimaryItem", "topItems": "CT_GroupControls",
                         "bottomItems": "CT_GroupControls"},
       opt("primaryItem") + opt("topItems") + opt("bottomItems"))
    ct("CT_TaskGroupTask", ag_id | ag_position | ag_action | ag_definitive | ag_image | ag_enabled | ag_label
       | ag_visible | ag_description | ag_keytip)
    ct("CT_TaskGroupCategory", ag_id | ag_position | ag_visible | ag_label, {"task": "CT_TaskGroupTask"},
       rep(["task"]))
    ct("CT_TaskGroup", ag_id | ag_position | ag_label | ag_visible | ag_helper_text | ag_show_label
       | {"allowedTaskSizes": TASK_SIZES}, {"category": "CT_TaskGroupCategory"}, rep(["category"], 0, 100))
    ct("CT_TaskFormGroupTask", ag_id | ag_position | ag_image | ag_enabled | ag_label | ag_visible | ag_description
       | ag_keytip, {"group": "CT_BackstageGroup"}, rep(["group"]))
    ct("CT_TaskFormGroupCategory", ag_id | ag_position | ag_visible | ag_label, {"task": "CT_TaskFormGroupTask"},
       rep(["task"]))
    ct("CT_TaskFormGroup", ag_id | ag_label | ag_visible | ag_helper_text | ag_show_label
       | {"allowedTaskSizes": TASK_SIZES}, {"category": "CT_TaskFormGroupCategory"}, rep(["category"], 0, 100))
    simple_groups = {"group": "CT_BackstageGroup", "taskGroup": "CT_TaskGroup"}
    # one taskFormGroup, or simple groups -- not both
    ct("CT_BackstageGroups", {}, simple_groups | {"taskFormGroup": "CT_TaskFormGroup"},
       f"(?:taskFormGroup |{rep(simple_groups)})")
    ct("CT_SimpleGroups", {}, simple_groups, rep(simple_groups))
    ct("CT_BackstageTab", ag_id | ag_position | ag_enabled | ag_label | ag_visible | ag_keytip | ag_title
       | {"columnWidthPercent": PERCENT, "firstColumnMinWidth": PIXELS, "firstColumnMaxWidth": PIXELS,
          "secondColumnMinWidth": PIXELS, "secondColumnMaxWidth": PIXELS},
       {"firstColumn": "CT_BackstageGroups", "secondColumn": "CT_SimpleGroups"},
       opt("firstColumn") + opt("secondColumn"))
    ct("CT_Backstage", {"onShow": DELEGATE, "onHide": DELEGATE},
       {"tab": "CT_BackstageTab", "button": "CT_BackstageFastCommandButton"}, rep(["tab", "button"], 0, 255))  # 2.3.1
    return t


SCHEMAS = {ns: build(ns) for ns in (NS_2006, NS_2009)}
ROOTS = {"customUI": "CT_CustomUI", "menu": "CT_MenuRoot"}

# --- checking -------------------------------------------------------------------------------------------------------


def check(data: bytes | str) -> list[str]:
    """The problems of a Custom UI document (bytes or text), as messages; [] when it is valid."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        return [f"not well-formed XML: {e}"]
    return _Checker(root, data).run()


def check_file(path: str | Path) -> list[str]:
    return check(Path(path).read_bytes())


class _Checker:
    def __init__(self, root, data: bytes):
        self.root, self.errors, self.ids = root, [], {}
        encoding = root.getroottree().docinfo.encoding or "utf-8"
        self.lines = data.decode(encoding, errors="replace").splitlines()

    def line(self, el) -> int:
        """The line where ``el``'s start tag begins (libxml2 gives the line where it ends: a tag whose attributes
        run over several lines is found by looking back for its name)."""
        n = el.sourceline or 0
        tag = f"<{el.prefix}:" if el.prefix else "<"
        tag += etree.QName(el).localname
        for back in range(n, 0, -1):
            text = self.lines[back - 1] if back <= len(self.lines) else ""
            if re.search(re.escape(tag) + r"(?=[\s/>]|$)", text):
                return back
        return n

    def where(self, el) -> str:
        ident = next((f' {a}="{el.get(a)}"' for a in ID_ATTRIBUTES if el.get(a) is not None), "")
        return f"line {self.line(el)}: <{etree.QName(el).localname}{ident}>"

    def run(self) -> list[str]:
        root, qname = self.root, etree.QName(self.root)
        if qname.namespace not in SCHEMAS:
            return [f"{self.where(root)}: namespace {qname.namespace!r} is not a Custom UI namespace "
                    f"({NS_2006} or {NS_2009})"]
        if qname.localname not in ROOTS:
            return [f"{self.where(root)}: the root element must be <customUI> (or <menu> for dynamicMenu content)"]
        self.ns, self.types = qname.namespace, SCHEMAS[qname.namespace]
        self.element(root, self.types[ROOTS[qname.localname]])
        for qat in root.iter(f"{{{self.ns}}}qat"):  # CT_Ribbon's qatControls: ids unique within the QAT
            seen: dict[str, object] = {}
            for el in qat.iterfind("*/*"):
                ident = el.get("id")
                if ident is not None and ident in seen:
                    self.errors.append(f"{self.where(el)}: id \"{ident}\" appears twice in the QAT "
                                       f"(also line {self.line(seen[ident])})")
                seen.setdefault(ident, el)
        return self.errors

    def element(self, el, ctype: Complex):
        where, errors = self.where(el), self.errors
        # attributes: known, of the right type, required ones present
        for name, value in el.attrib.items():
            attr = etree.QName(name)
            if attr.namespace == XSI:
                continue
            if attr.namespace is not None:
                errors.append(f"{where}: attribute {{{attr.namespace}}}{attr.localname} is not allowed")
                continue
            simple = ctype.attrs.get(name)
            if simple is None:
                errors.append(f"{where}: unknown attribute {name}= (not an attribute of {ctype.name})")
                continue
            problem = simple.problem(value)
            if problem:
                errors.append(f"{where}: attribute {name}=\"{value}\" {problem}")
            elif simple is QID:
                prefix = QNAME.fullmatch(_collapse(value)).group("prefix")
                if prefix is not None and prefix not in (el.nsmap or {}):
                    errors.append(f"{where}: attribute {name}=\"{value}\": prefix {prefix!r} is not a declared "
                                  f"namespace")
        for name in ctype.required:
            if el.get(name) is None:
                errors.append(f"{where}: attribute {name}= is required on {ctype.name}")
        # the prose rules of 2.3.x
        declared = [a for a in ID_ATTRIBUTES if a in ctype.attrs]
        given = [a for a in declared if el.get(a) is not None]
        if declared and not ctype.item and len(given) != 1:
            if given:
                errors.append(f"{where}: attributes {', '.join(given)} are mutually exclusive; give exactly one")
            else:
                errors.append(f"{where}: exactly one of {', '.join(declared)} MUST be specified")
        ident = el.get("id")
        if ctype.attrs.get("id") is UNIQUE_ID and ident is not None and UNIQUE_ID.problem(ident) is None:
            key = _collapse(ident)
            if key in self.ids:
                errors.append(f"{where}: id \"{key}\" is already used by {self.where(self.ids[key])} "
                              f"(ST_UniqueID: ids MUST be unique in the document)")
            else:
                self.ids[key] = el
        for static, callback in STATIC_AND_CALLBACK:
            if el.get(static) is not None and el.get(callback) is not None:
                errors.append(f"{where}: attributes {static} and {callback} MUST NOT be used together")
        for group in (IMAGE, POSITION):
            both = [a for a in group if el.get(a) is not None]
            if len(both) > 1:
                errors.append(f"{where}: attributes {', '.join(both)} are mutually exclusive; give at most one")
        # children: elements of this namespace that the type allows, in the order and numbers of its content model
        names = []
        if el.text and el.text.strip():
            errors.append(f"{where}: text {el.text.strip()[:40]!r} is not allowed (element-only content)")
        for child in el:
            if child.tail and child.tail.strip():
                errors.append(f"{where}: text {child.tail.strip()[:40]!r} is not allowed (element-only content)")
            if not isinstance(child.tag, str):  # comments, processing instructions
                continue
            cq = etree.QName(child)
            if cq.namespace != self.ns:
                errors.append(f"{self.where(child)}: element {{{cq.namespace}}}{cq.localname} is not in the "
                              f"document's Custom UI namespace")
                continue
            child_type = ctype.children.get(cq.localname)
            if child_type is None:
                allowed = ", ".join(ctype.children) or "no child elements"
                errors.append(f"{self.where(child)}: <{cq.localname}> is not allowed inside "
                              f"{where.split(': ', 1)[1]} (allowed: {allowed})")
                continue
            names.append(cq.localname)
            self.element(child, self.types[child_type])
        if not ctype.model.fullmatch("".join(f"{n} " for n in names)):
            errors.append(f"{where}: its children ({', '.join(names) or 'none'}) do not follow {ctype.name}'s "
                          f"content model {ctype.describe}")
