// @ts-check
// The 台账工具 ribbon in WPS 表格 (a WPS 加载项, served by `xltools serve` at /wps/).
//
// WPS cannot run xlwings, so this add-in decides nothing itself: the workbook buttons send a snapshot of the active
// workbook (values, merged ranges, the cells that have a fill or a note, the selection) to the desk, which answers
// with the same patch the Excel add-in applies (xltools.buttons / xltools.patch), and apply it here through WPS's
// object model; the other buttons hand the desk a saved file and a chosen path and open what it wrote. Written for
// the older Chromium builds inside WPS: ES5, XMLHttpRequest, no modules. Every message is Chinese.

/** @typedef {{Id: string, Tag?: string}} RibbonControl */
/** @typedef {{sheet: string, cell: string, fill: string, note: string, text: string}} CellState */
/** @typedef {{sheet: string, cell: string, fill: string, note: (string|null)}} Paint */
/** @typedef {{name: string, rows: Array<Array<any>>, widths: number[], hidden: number[], wrapped: number[],
 *   centred: number[], numeric: number[], fills: Array<Array<any>>, links: Array<Array<any>>, visible: boolean,
 *   styled: boolean}} Table */
/** @typedef {{restore: CellState[], paint: Paint[], writes: Array<{sheet: string, cell: string, value: string}>,
 *   delete: string[], tables: Table[], activate: (string|null), message: string}} Patch */

var XLT_TITLE = "台账工具";
// ribbon id → button tag (the tag names the same handler as in the Excel add-in: xltools.addin.HANDLERS)
var XLT_BUTTONS = {
  xltoolsPlanToLedger: "plan_to_ledger", xltoolsRefreshLedger: "refresh_ledger", xltoolsCheckUnits: "check_units",
  xltoolsCheckTargets: "check_targets", xltoolsApplyFixes: "apply_fixes", xltoolsClearMarks: "clear_marks",
  xltoolsDistribute: "distribute", xltoolsConsolidate: "consolidate", xltoolsFeedback: "feedback",
  xltoolsOpenDirectory: "open_directory", xltoolsLookupUnit: "lookup_unit", xltoolsHelp: "help"
};
var XLT_WORKBOOK = { check_units: 1, check_targets: 1, apply_fixes: 1, clear_marks: 1, lookup_unit: 1 };
var XLT_PICK = { plan_to_ledger: 3, refresh_ledger: 3, distribute: 4, consolidate: 4, feedback: 4 };  // msoFileDialog…
var XL_NONE = -4142;  // xlColorIndexNone / xlNone
var FORMULA_START = "=+-@";

/** The desk's address: "" (this page's own server) unless config.js names another. */
function xltDesk() {
  var named = /** @type {any} */ (window).XLTOOLS_DESK;
  return typeof named === "string" ? named.replace(/\/$/, "") : "";
}

/** @param {string} text */
function xltSay(text) {
  alert(text);
}

/**
 * POST JSON to the desk; ``done(status, answer)`` with the parsed answer ({error} on failure).
 * @param {string} path @param {any} body @param {function(number, any): void} done
 */
function xltPost(path, body, done) {
  var xhr = new XMLHttpRequest();
  xhr.open("POST", xltDesk() + path, true);
  xhr.setRequestHeader("Content-Type", "application/json");
  xhr.setRequestHeader("X-Xltools", "wps");
  xhr.onreadystatechange = function () {
    if (xhr.readyState !== 4) return;
    var answer = {};
    try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {}; }
    done(xhr.status, answer);
  };
  xhr.send(JSON.stringify(body));
}

/** @param {number} status @param {any} answer */
function xltFailed(status, answer) {
  if (status === 0) {
    return "连接不上台账工具的收发台（" + (xltDesk() || location.host) + "）。请确认本机已运行 xltools serve 后重试。";
  }
  return "未能完成：" + (answer && answer.error ? answer.error : "收发台返回错误 " + status);
}

// ------------------------------------------------------------------------------------------------ reading

/** @param {number} col */
function xltColumn(col) {
  var out = "";
  while (col > 0) {
    var rem = (col - 1) % 26;
    out = String.fromCharCode(65 + rem) + out;
    col = Math.floor((col - 1) / 26);
  }
  return out;
}

/** Excel's BGR colour integer as "#RRGGBB". @param {number} color */
function xltHex(color) {
  var r = color & 255, g = (color >> 8) & 255, b = (color >> 16) & 255;
  return "#" + [r, g, b].map(function (v) { return (v < 16 ? "0" : "") + v.toString(16).toUpperCase(); }).join("");
}

/** "#RRGGBB" as Excel's BGR integer. @param {string} hex */
function xltColor(hex) {
  var v = parseInt(hex.replace("#", ""), 16);
  return ((v & 255) << 16) | (v & 0xFF00) | ((v >> 16) & 255);
}

/** A range's values as rows, whatever WPS returns for one cell or one row. @param {any} value */
function xltRows(value) {
  if (!(value instanceof Array)) return [[value]];
  if (value.length && !(value[0] instanceof Array)) return [value];
  return value;
}

/** A cell's fill, "" for none. @param {Et.Range} cell */
function xltFill(cell) {
  return cell.Interior.ColorIndex === XL_NONE ? "" : xltHex(Number(cell.Interior.Color));
}

/**
 * One sheet as the desk reads it: values from A1 to the end of the used range, merged ranges, and the cells with
 * a fill or a note (a whole row without either is read in one call).
 * @param {Et.Worksheet} ws
 */
function xltSheet(ws) {
  var used = ws.UsedRange;
  var lastRow = used.Row + used.Rows.Count - 1, lastCol = used.Column + used.Columns.Count - 1;
  var whole = ws.Range("A1:" + xltColumn(lastCol) + lastRow);
  var values = xltRows(whole.Value2);
  /** @type {Object<string, {fill: string, note: (string|null)}>} */
  var cells = {};
  /** @type {string[]} */
  var merged = [];
  var seen = {};
  for (var r = 1; r <= lastRow; r++) {
    var row = ws.Range("A" + r + ":" + xltColumn(lastCol) + r);
    var plain = row.Interior.ColorIndex === XL_NONE && row.MergeCells === false;
    if (plain) continue;
    for (var c = 1; c <= lastCol; c++) {
      var ref = xltColumn(c) + r;
      var cell = ws.Range(ref);
      var fill = xltFill(cell);
      if (fill) cells[ref] = { fill: fill, note: null };
      if (cell.MergeCells === true) {
        var area = String(cell.MergeArea.Address(false, false));
        if (!seen[area]) { seen[area] = 1; merged.push(area); }
      }
    }
  }
  var notes = ws.Comments;
  for (var i = 1; i <= notes.Count; i++) {
    var note = notes.Item(i);
    var at = /** @type {Et.Range} */ (note.Parent);
    var key = String(at.Address(false, false));
    cells[key] = { fill: cells[key] ? cells[key].fill : xltFill(at), note: note.Text() };
  }
  return { name: ws.Name, values: values, merged: merged, cells: cells };
}

/** The active workbook as the desk's snapshot. @param {Et.Workbook} book */
function xltSnapshot(book) {
  var sheets = [];
  for (var i = 1; i <= book.Worksheets.Count; i++) {
    sheets.push(xltSheet(/** @type {Et.Worksheet} */ (book.Worksheets.Item(i))));
  }
  var selection = [];
  try { selection = xltRows(/** @type {Et.Range} */ (Application.Selection).Value2); } catch (e) { selection = []; }
  return { name: book.Name, sheets: sheets, selection: selection };
}

// ------------------------------------------------------------------------------------------------ applying

/** @param {Et.Workbook} book @param {string} name */
function xltFind(book, name) {
  for (var i = 1; i <= book.Worksheets.Count; i++) {
    var ws = /** @type {Et.Worksheet} */ (book.Worksheets.Item(i));
    if (ws.Name === name) return ws;
  }
  return null;
}

/** Before any write: the sheets and cells the patch touches can be written. @param {Et.Workbook} book @param {Patch} patch */
function xltWritable(book, patch) {
  var formatted = {};
  var i;
  for (i = 0; i < patch.restore.length; i++) formatted[patch.restore[i].sheet] = 1;
  for (i = 0; i < patch.paint.length; i++) formatted[patch.paint[i].sheet] = 1;
  for (var name in formatted) {
    var ws = xltFind(book, name);
    if (ws && ws.ProtectContents) {
      return "工作表“" + name + "”受保护，无法标注。请先撤销保护（审阅 → 撤销工作表保护）后再点击。";
    }
  }
  for (i = 0; i < patch.writes.length; i++) {
    var w = patch.writes[i];
    var sheet = xltFind(book, w.sheet);
    if (sheet && sheet.ProtectContents && sheet.Range(w.cell).Locked === true) {
      return "工作表“" + w.sheet + "”的 " + w.cell + " 单元格受保护，无法修正。请先撤销工作表保护后再点击。";
    }
  }
  if ((patch.tables.length || patch.delete.length) && book.ProtectStructure) {
    return "工作簿结构受保护，无法添加“问题清单”。请先撤销保护（审阅 → 保护工作簿）后再点击。";
  }
  return "";
}

/** @param {Et.Range} cell @param {string} text */
function xltNote(cell, text) {
  cell.ClearComments();
  cell.AddComment(text);
}

/** @param {Et.Range} cell @param {string} fill */
function xltPaint(cell, fill) {
  if (fill === "") cell.Interior.ColorIndex = XL_NONE;
  else if (fill !== "unknown") cell.Interior.Color = xltColor(fill);
}

/** A patch's table as a sheet at the end of the workbook. @param {Et.Workbook} book @param {Table} table */
function xltTable(book, table) {
  var old = xltFind(book, table.name);
  if (old) { Application.DisplayAlerts = false; old.Delete(); Application.DisplayAlerts = true; }
  var last = book.Worksheets.Item(book.Worksheets.Count);
  var ws = /** @type {Et.Worksheet} */ (book.Worksheets.Add(undefined, last));
  ws.Name = table.name;
  var width = 0, r, c;
  for (r = 0; r < table.rows.length; r++) width = Math.max(width, table.rows[r].length);
  var rows = table.rows.map(function (row) {
    var out = [];
    for (var k = 0; k < width; k++) out.push(row[k] === null || row[k] === undefined ? "" : row[k]);
    return out;
  });
  var end = xltColumn(width) + rows.length;
  for (c = 1; c <= width; c++) {
    if (table.numeric.indexOf(c) < 0) ws.Range(xltColumn(c) + "1:" + xltColumn(c) + rows.length).NumberFormat = "@";
  }
  ws.Range("A1:" + end).Value2 = rows;
  if (table.styled) {
    var all = ws.Range("A1:" + end);
    all.Font.Name = "仿宋";
    all.Font.Size = 11;
    var header = ws.Range("A1:" + xltColumn(width) + "1");
    header.Font.Name = "黑体";
    header.Font.Bold = true;
    header.Interior.Color = xltColor("#D9D9D9");
    for (c = 1; c <= table.widths.length; c++) {
      ws.Range(xltColumn(c) + "1").ColumnWidth = table.hidden.indexOf(c) >= 0 ? 0 : table.widths[c - 1];
    }
    for (c = 0; c < table.wrapped.length; c++) {
      var col = xltColumn(table.wrapped[c]);
      ws.Range(col + "1:" + col + rows.length).WrapText = true;
    }
  }
  for (r = 0; r < table.fills.length; r++) {
    var f = table.fills[r];
    ws.Range(xltColumn(f[1]) + f[0]).Interior.Color = xltColor(f[2]);
  }
  for (r = 0; r < table.links.length; r++) {
    var l = table.links[r];
    var anchor = ws.Range(xltColumn(l[1]) + l[0]);
    ws.Hyperlinks.Add(anchor, "", "'" + String(l[2]).replace(/'/g, "''") + "'!" + l[3], "转到 " + l[2] + "!" + l[3], l[3]);
  }
  if (!table.visible) ws.Visible = 0;  // xlSheetHidden
  return ws;
}

/** A patch applied to the workbook, after every sheet it touches is found writable. @param {Et.Workbook} book @param {Patch} patch */
function xltApply(book, patch) {
  var refused = xltWritable(book, patch);
  if (refused) { xltSay(refused); return false; }
  var i, ws;
  for (i = 0; i < patch.restore.length; i++) {
    var was = patch.restore[i];
    ws = xltFind(book, was.sheet);
    if (!ws) continue;
    var cell = ws.Range(was.cell);
    xltPaint(cell, was.fill);
    if (was.note === "none") cell.ClearComments();
    else if (was.note === "text") xltNote(cell, was.text);
  }
  for (i = 0; i < patch.paint.length; i++) {
    var mark = patch.paint[i];
    var at = /** @type {Et.Worksheet} */ (xltFind(book, mark.sheet)).Range(mark.cell);
    at.Interior.Color = xltColor(mark.fill);
    if (mark.note !== null) xltNote(at, mark.note);
  }
  for (i = 0; i < patch.writes.length; i++) {
    var w = patch.writes[i];
    var target = /** @type {Et.Worksheet} */ (xltFind(book, w.sheet)).Range(w.cell);
    if (FORMULA_START.indexOf(w.value.charAt(0)) >= 0 && w.value) target.NumberFormat = "@";
    target.Value2 = w.value;
  }
  for (i = 0; i < patch.delete.length; i++) {
    ws = xltFind(book, patch.delete[i]);
    if (ws) { Application.DisplayAlerts = false; ws.Delete(); Application.DisplayAlerts = true; }
  }
  for (i = 0; i < patch.tables.length; i++) xltTable(book, patch.tables[i]);
  if (patch.activate) {
    ws = xltFind(book, patch.activate);
    if (ws) ws.Activate();
  }
  if (patch.message) xltSay(patch.message);
  return true;
}

// ------------------------------------------------------------------------------------------------ buttons

/** A workbook button: the snapshot to the desk, its patch applied. @param {string} tag @param {Et.Workbook} book */
function xltWorkbookButton(tag, book) {
  var snapshot;
  try { snapshot = xltSnapshot(book); } catch (e) { xltSay("读取当前工作簿失败：" + e); return; }
  xltPost("/api/workbook/" + tag, snapshot, function (status, answer) {
    if (status !== 200) { xltSay(xltFailed(status, answer)); return; }
    try { xltApply(book, /** @type {Patch} */ (answer)); } catch (e) { xltSay("写入标注时出错：" + e); }
    /** @type {any} */ (window).XLT_DONE = tag;
  });
}

/** A file or folder the clerk chooses, "" when cancelled. @param {number} kind 3 file, 4 folder */
function xltChoose(kind) {
  var dialog = Application.FileDialog(/** @type {Kso.MsoFileDialogType} */ (kind));
  dialog.AllowMultiSelect = false;
  if (dialog.Show() !== -1) return "";
  return String(dialog.SelectedItems.Item(1));
}

/**
 * A button that works on files (the Excel add-in's handlers, run by the desk on this computer): the workbook's
 * saved file (an unsaved or changed workbook is saved as a copy first, where the desk says), the chosen path;
 * what the desk wrote is opened.
 * @param {string} tag @param {Et.Workbook | null} book
 */
function xltFileButton(tag, book) {
  var chosen = "";
  if (XLT_PICK[tag]) {
    chosen = xltChoose(XLT_PICK[tag]);
    if (!chosen) return;
  }
  function run(saved) {
    xltPost("/api/ribbon/" + tag, { book: saved, path: chosen }, function (status, answer) {
      if (status !== 200) { xltSay(xltFailed(status, answer)); return; }
      for (var i = 0; i < answer.open.length; i++) Application.Workbooks.Open(answer.open[i]);
      for (i = 0; i < answer.messages.length; i++) xltSay(answer.messages[i]);
      /** @type {any} */ (window).XLT_DONE = tag;
    });
  }
  if (!book) { run(""); return; }
  if (book.Path && book.Saved) { run(book.FullName); return; }
  xltPost("/api/ribbon/copy_path", { name: book.Name }, function (status, answer) {
    if (status !== 200) { xltSay(xltFailed(status, answer)); return; }
    book.SaveCopyAs(answer.path);
    run(answer.path);
  });
}

// ------------------------------------------------------------------------------------------- ribbon callbacks

/** WPS calls this first, with the ribbon. @param {any} ribbonUI */
function OnAddinLoad(ribbonUI) {
  /** @type {any} */ (window).XLT_RIBBON = ribbonUI;
  return true;
}

/** Every button. @param {RibbonControl} control */
function OnAction(control) {
  var tag = XLT_BUTTONS[control.Id];
  if (!tag) { xltSay("台账工具没有这个按钮（" + control.Id + "）。请重新安装：xltools wps install"); return true; }
  var book = null;
  try { book = Application.ActiveWorkbook; } catch (e) { book = null; }
  if (XLT_WORKBOOK[tag]) {
    if (!book) { xltSay("请先打开台账工作簿，再点“台账工具”的按钮。"); return true; }
    xltWorkbookButton(tag, book);
  } else {
    xltFileButton(tag, book);
  }
  return true;
}

/** @param {RibbonControl} control */
function GetImage(control) {
  return "icons/" + (XLT_BUTTONS[control.Id] || "help") + ".svg";
}
