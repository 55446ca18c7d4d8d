// A recording stand-in for the parts of WPS 表格's object model (et-jsapi-declare's Et.Application, Workbook,
// Worksheet, Range, Comment…) that the add-in's main.js uses. It is NOT WPS: it keeps a workbook in plain objects,
// answers reads the way the declarations (and Excel's object model they follow) say, and records every write, so
// that a test in headless Chromium can run the add-in's real code and read back what it did.
// xltStandIn(book) → {Application, dump(), calls}; book = {name, fullName, path, saved, protectStructure,
//   sheets: [{name, values: [[…]], fills: {A1: "#RRGGBB"}, notes: {A1: "text"}, merged: ["A1:B2"], protect}],
//   selection: {sheet, ref}, picked: "path the file dialog returns"}.
function xltStandIn(book) {
  var NONE = -4142;
  var calls = [];

  function col(letters) {
    var n = 0;
    for (var i = 0; i < letters.length; i++) n = n * 26 + letters.charCodeAt(i) - 64;
    return n;
  }
  function letters(n) {
    var out = "";
    while (n > 0) { var r = (n - 1) % 26; out = String.fromCharCode(65 + r) + out; n = Math.floor((n - 1) / 26); }
    return out;
  }
  function parse(ref) {
    var parts = ref.replace(/\$/g, "").split(":");
    var a = /^([A-Z]+)(\d+)$/.exec(parts[0]), b = /^([A-Z]+)(\d+)$/.exec(parts[1] || parts[0]);
    if (!a || !b) throw new Error("bad address " + ref);
    return { r1: +a[2], c1: col(a[1]), r2: +b[2], c2: col(b[1]) };
  }
  function key(r, c) { return letters(c) + r; }
  function bgr(hex) { var v = parseInt(hex.slice(1), 16); return ((v & 255) << 16) | (v & 0xFF00) | ((v >> 16) & 255); }
  function hex(color) {
    var r = color & 255, g = (color >> 8) & 255, b = (color >> 16) & 255;
    return "#" + [r, g, b].map(function (v) { return (v < 16 ? "0" : "") + v.toString(16).toUpperCase(); }).join("");
  }

  function Sheet(data) {
    this.name = data.name;
    this.values = {};
    this.fills = {};
    this.notes = {};
    this.formats = {};
    this.widths = {};
    this.fonts = {};
    this.wrap = {};
    this.links = [];
    this.merged = (data.merged || []).map(parse);
    this.protect = !!data.protect;
    this.visible = true;
    var rows = data.values || [];
    for (var r = 0; r < rows.length; r++) {
      for (var c = 0; c < rows[r].length; c++) {
        if (rows[r][c] !== "" && rows[r][c] !== null && rows[r][c] !== undefined) this.values[key(r + 1, c + 1)] = rows[r][c];
      }
    }
    for (var f in (data.fills || {})) this.fills[f] = bgr(data.fills[f]);
    for (var n in (data.notes || {})) this.notes[n] = data.notes[n];
  }
  Sheet.prototype.extent = function () {
    var maxR = 1, maxC = 1, all = [this.values, this.fills, this.notes];
    for (var i = 0; i < all.length; i++) {
      for (var k in all[i]) {
        var p = parse(k);
        maxR = Math.max(maxR, p.r1); maxC = Math.max(maxC, p.c1);
      }
    }
    return { r1: 1, c1: 1, r2: maxR, c2: maxC };
  };

  var sheets = book.sheets.map(function (s) { return new Sheet(s); });
  var wb;

  function range(sheet, box) {
    function cells(fn) {
      for (var r = box.r1; r <= box.r2; r++) for (var c = box.c1; c <= box.c2; c++) fn(r, c, key(r, c));
    }
    function mergeOf(r, c) {
      for (var i = 0; i < sheet.merged.length; i++) {
        var m = sheet.merged[i];
        if (r >= m.r1 && r <= m.r2 && c >= m.c1 && c <= m.c2) return m;
      }
      return null;
    }
    var single = box.r1 === box.r2 && box.c1 === box.c2;
    var interior = {};
    Object.defineProperty(interior, "Color", {
      get: function () { var k = key(box.r1, box.c1); return k in sheet.fills ? sheet.fills[k] : 16777215; },
      set: function (v) { calls.push(["Interior.Color", sheet.name, addr(), hex(v)]); cells(function (r, c, k) { sheet.fills[k] = v; }); }
    });
    Object.defineProperty(interior, "ColorIndex", {
      get: function () {
        var any = false, all = true;
        cells(function (r, c, k) { if (k in sheet.fills) any = true; else all = false; });
        return !any ? NONE : (all && single ? 1 : null);
      },
      set: function (v) {
        calls.push(["Interior.ColorIndex", sheet.name, addr(), v]);
        if (v === NONE) cells(function (r, c, k) { delete sheet.fills[k]; });
      }
    });
    function addr() { return box.r1 === box.r2 && box.c1 === box.c2 ? key(box.r1, box.c1) : key(box.r1, box.c1) + ":" + key(box.r2, box.c2); }
    var font = {};
    ["Name", "Size", "Bold"].forEach(function (p) {
      Object.defineProperty(font, p, { set: function (v) { cells(function (r, c, k) { (sheet.fonts[k] = sheet.fonts[k] || {})[p] = v; }); } });
    });
    var self = {
      get Value2() {
        if (single) { var k = key(box.r1, box.c1); return k in sheet.values ? sheet.values[k] : undefined; }
        var out = [];
        for (var r = box.r1; r <= box.r2; r++) {
          var row = [];
          for (var c = box.c1; c <= box.c2; c++) { var k2 = key(r, c); row.push(k2 in sheet.values ? sheet.values[k2] : undefined); }
          out.push(row);
        }
        return out;
      },
      set Value2(v) {
        calls.push(["Value2", sheet.name, addr()]);
        cells(function (r, c, k) {
          var value = v instanceof Array ? v[r - box.r1][c - box.c1] : v;
          if (typeof value === "string" && /^[=+\-@]/.test(value) && sheet.formats[k] !== "@") {
            throw new Error(sheet.name + "!" + k + ": " + value + " would become a formula");
          }
          if (value === "" || value === null || value === undefined) delete sheet.values[k]; else sheet.values[k] = value;
        });
      },
      Interior: interior,
      Font: font,
      get MergeCells() {
        var some = false, all = true;
        cells(function (r, c) { if (mergeOf(r, c)) some = true; else all = false; });
        return all && some ? true : (some ? null : false);
      },
      get MergeArea() { var m = mergeOf(box.r1, box.c1); return range(sheet, m || box); },
      Address: function () { return addr(); },
      get Row() { return box.r1; },
      get Column() { return box.c1; },
      get Rows() { return { Count: box.r2 - box.r1 + 1 }; },
      get Columns() { return { Count: box.c2 - box.c1 + 1 }; },
      set NumberFormat(v) { cells(function (r, c, k) { sheet.formats[k] = v; }); },
      set ColumnWidth(v) { for (var c = box.c1; c <= box.c2; c++) sheet.widths[letters(c)] = v; },
      set WrapText(v) { cells(function (r, c, k) { sheet.wrap[k] = v; }); },
      get Locked() { return true; },
      ClearComments: function () { calls.push(["ClearComments", sheet.name, addr()]); cells(function (r, c, k) { delete sheet.notes[k]; }); },
      AddComment: function (text) {
        var k = key(box.r1, box.c1);
        if (k in sheet.notes) throw new Error(sheet.name + "!" + k + " already has a comment");  // as Excel/WPS
        calls.push(["AddComment", sheet.name, k]);
        sheet.notes[k] = text;
      }
    };
    return self;
  }

  function worksheet(sheet) {
    return {
      get Name() { return sheet.name; },
      set Name(v) { sheet.name = v; },
      get UsedRange() { return range(sheet, sheet.extent()); },
      Range: function (ref) { return range(sheet, parse(ref)); },
      get Comments() {
        var keys = Object.keys(sheet.notes);
        return { Count: keys.length, Item: function (i) {
          var k = keys[i - 1];
          return { Parent: range(sheet, parse(k)), Text: function () { return sheet.notes[k]; } };
        } };
      },
      Hyperlinks: { Add: function (anchor, address, sub, tip, text) { sheet.links.push([anchor.Address(), sub, text]); } },
      get ProtectContents() { return sheet.protect; },
      set Visible(v) { sheet.visible = !!v; },
      Activate: function () { calls.push(["Activate", sheet.name]); wb.active = sheet.name; },
      Delete: function () { calls.push(["Delete", sheet.name]); sheets.splice(sheets.indexOf(sheet), 1); }
    };
  }

  wb = {
    active: null,
    Name: book.name,
    FullName: book.fullName || "",
    Path: book.path || "",
    Saved: !!book.saved,
    ProtectStructure: !!book.protectStructure,
    Worksheets: {
      get Count() { return sheets.length; },
      Item: function (i) { return worksheet(typeof i === "number" ? sheets[i - 1] : sheets.filter(function (s) { return s.name === i; })[0]); },
      Add: function (before, after) {
        var sheet = new Sheet({ name: "Sheet" + (sheets.length + 1) });
        var at = after ? sheets.map(function (s) { return s.name; }).indexOf(after.Name) + 1 : sheets.length;
        sheets.splice(at, 0, sheet);
        calls.push(["Worksheets.Add", at]);
        return worksheet(sheet);
      }
    },
    SaveCopyAs: function (path) { calls.push(["SaveCopyAs", path]); }
  };

  var selection = book.selection ? worksheet(sheets.filter(function (s) { return s.name === book.selection.sheet; })[0]).Range(book.selection.ref) : null;
  var app = {
    ActiveWorkbook: book.none ? null : wb,
    Selection: selection,
    DisplayAlerts: true,
    Workbooks: { Open: function (path) { calls.push(["Workbooks.Open", path]); } },
    FileDialog: function (kind) {
      return { AllowMultiSelect: true, Show: function () { calls.push(["FileDialog", kind]); return book.picked ? -1 : 0; },
               SelectedItems: { Item: function () { return book.picked; } } };
    }
  };

  function dump() {
    return sheets.map(function (s) {
      var fills = {};
      for (var k in s.fills) fills[k] = hex(s.fills[k]);
      return { name: s.name, values: s.values, fills: fills, notes: s.notes, formats: s.formats, widths: s.widths,
               links: s.links, visible: s.visible };
    });
  }
  return { Application: app, dump: dump, calls: calls };
}
