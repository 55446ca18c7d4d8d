Attribute VB_Name = "xltools_desk"
' The desk route (issue 24). Where security software forbids Office to start programs (Defender's ASR rule "Block
' all Office applications from creating child processes"), RunPython cannot start Python and every button stops.
' With DESK_URL in %USERPROFILE%\.xltools\xltools.conf (`xltools addin install --desk http://127.0.0.1:8765`), the
' ribbon callbacks call DeskButton instead, which asks the desk (`xltools serve`, started outside Office) over HTTP
' with MSXML2.ServerXMLHTTP (no child process) - a port of the WPS add-in (xltools/desk/wps/main.js): the workbook
' buttons send a snapshot of the workbook and apply the patch the desk answers; the file buttons hand it the saved
' workbook and the chosen path, then open what it wrote and say its messages.
' ASCII only: Chinese text is built from UTF-16 hex codes (FromHex). JSON values: an object is a Collection holding
' each member under "k" & the UTF-16 hex of its name (Collection keys ignore case, hex does not care) and the names
' in order under "~"; an array is a Collection; null is Null. The pure functions are run in LibreOffice by the tests.
Option Explicit
Option Private Module

Private Const XL_NONE As Long = -4142         ' xlColorIndexNone
Private Const XL_SHEET_HIDDEN As Long = 0     ' xlSheetHidden
Private Const FORMULA_START As String = "=+-@"  ' a text starting with these would be read as a formula
Private Const WORKBOOK_TAGS As String = " check_units check_targets apply_fixes clear_marks lookup_unit "
Private Const FILE_TAGS As String = " plan_to_ledger refresh_ledger distribute consolidate feedback open_directory help "
Private Const THREADED_SHOWN As Long = 5     ' cells named in the threaded-comment message; the rest are counted
Private Const HEX_DIGITS As String = "0123456789ABCDEF"

' ------------------------------------------------------------------------------------------------ the buttons

' The desk's address (xlwings' GetConfig: the add-in's sheet, then %USERPROFILE%\.xltools\xltools.conf), without a
' trailing slash; "" when the buttons start Python as usual.
Public Function DeskUrl() As String
    Dim url As String
    On Error Resume Next
    url = Trim$(CStr(GetConfig("DESK_URL", "")))
    On Error GoTo 0
    Do While Right$(url, 1) = "/"
        url = Left$(url, Len(url) - 1)
    Loop
    DeskUrl = url
End Function

' One button through the desk: `tag` names its handler (xltools.addin.HANDLERS), `chosen` the picked file or folder.
Public Sub DeskButton(tag As String, chosen As String)
    Dim url As String
    url = DeskUrl()
    If InStr(WORKBOOK_TAGS, " " & tag & " ") > 0 Then
        WorkbookButton url, tag, ActiveWorkbook
    ElseIf InStr(FILE_TAGS, " " & tag & " ") > 0 Then
        FileButton url, tag, chosen, ActiveWorkbook
    Else
        Say FromHex("53F08D265DE551776CA167098FD94E2A630994AEFF08") & tag & FromHex("FF093002"), vbExclamation
    End If
End Sub

' The snapshot to /api/workbook/<tag>, the patch it answers applied (main.js's xltWorkbookButton).
Private Sub WorkbookButton(url As String, tag As String, book As Object)
    Dim body As String, patch As Variant
    On Error GoTo Unreadable
    body = SnapshotJson(book)
    On Error GoTo 0
    If Not Post(url & "/api/workbook/" & tag, body, patch) Then Exit Sub
    On Error GoTo Unwritable
    ApplyPatch book, patch
    Exit Sub
Unreadable:
    Say FromHex("8BFB53D65F53524D5DE54F5C7C3F59318D25FF1A") & Err.Description, vbExclamation
    Exit Sub
Unwritable:
    Application.ScreenUpdating = True
    Application.DisplayAlerts = True
    Say FromHex("5199516568076CE865F651FA9519FF1A") & Err.Description, vbExclamation
End Sub

' The saved workbook (an unsaved or changed one saved as a copy where the desk says) and the chosen path to
' /api/ribbon/<tag>; what the desk wrote is opened and its messages said (main.js's xltFileButton).
Private Sub FileButton(url As String, tag As String, chosen As String, book As Object)
    Dim saved As String, answer As Variant, items As Variant, i As Long
    If Not book Is Nothing Then
        If book.Path <> "" And book.Saved Then
            saved = book.FullName
        Else
            If Not Post(url & "/api/ribbon/copy_path", "{""name"":" & JsonString(book.Name) & "}", answer) Then Exit Sub
            saved = CStr(Member(answer, "path"))
            book.SaveCopyAs saved
        End If
    End If
    If Not Post(url & "/api/ribbon/" & tag, "{""book"":" & JsonString(saved) & ",""path"":" & JsonString(chosen) & "}", _
                answer) Then Exit Sub
    Set items = Member(answer, "open")
    For i = 1 To items.Count
        Application.Workbooks.Open CStr(At(items, i))
    Next i
    Set items = Member(answer, "messages")
    For i = 1 To items.Count
        Say CStr(At(items, i))
    Next i
End Sub

' POST JSON to the desk; True with its parsed answer in `answer`, or False once the clerk has been told why.
Private Function Post(url As String, body As String, answer As Variant) As Boolean
    Dim http As Object, status As Long, text As String, parsed As Variant, said As Variant
    On Error GoTo Unreachable
    Set http = CreateObject("MSXML2.ServerXMLHTTP.6.0")
    http.setProxy 1  ' SXH_PROXY_SET_DIRECT: the desk is on this computer
    http.setTimeouts 5000, 5000, 60000, 1800000  ' resolve, connect, send, receive (a rollup takes a while)
    http.Open "POST", url, False
    http.setRequestHeader "Content-Type", "application/json"
    http.setRequestHeader "X-Xltools", "excel"
    Application.StatusBar = FromHex("53F08D265DE55177FF1A6B6357287B495F85653653D153F020262026")
    http.send body
    Application.StatusBar = False
    status = http.Status
    text = Utf8Decode(http.responseBody)
    On Error GoTo Unanswered
    parsed = Empty
    If text <> "" Then Assign parsed, JsonParse(text)
    If status = 200 And IsObject(parsed) Then
        Set answer = parsed
        Post = True
        Exit Function
    End If
    said = Empty
    If IsObject(parsed) Then said = Member(parsed, "error")
    If VarType(said) = vbString Then
        Say FromHex("672A80FD5B8C6210FF1A") & said, vbExclamation
    Else
        Say FromHex("672A80FD5B8C6210FF1A653653D153F08FD456DE95198BEF0020") & status, vbExclamation
    End If
    Exit Function
Unreachable:
    Application.StatusBar = False
    Say FromHex("8FDE63A54E0D4E0A53F08D265DE551777684653653D153F0FF08") & url & FromHex("FF0930028BF7786E8BA4672C673A5DF28FD0884C00200078006C0074006F006F006C00730020007300650072007600650020540E91CD8BD53002") _
        & vbCrLf & "(" & Err.Number & ": " & Err.Description & ")", vbExclamation
    Exit Function
Unanswered:
    Say FromHex("672A80FD5B8C6210FF1A653653D153F076847B54590D65E06CD58BFB53D6FF08") & Err.Description & FromHex("FF093002"), vbExclamation
End Function

Private Sub Say(text As String, Optional icon As Long = 64)  ' vbInformation
    MsgBox text, icon, FromHex("53F08D265DE55177")
End Sub

' ------------------------------------------------------------------------------------------------ reading

' The active workbook as the desk's snapshot: {"name", "sheets": [...], "selection": [[...]]}.
Public Function SnapshotJson(book As Object) As String
    Dim sheets() As String, i As Long, n As Long
    n = book.Worksheets.Count
    ReDim sheets(1 To n)
    For i = 1 To n
        sheets(i) = SheetJson(book.Worksheets(i))
    Next i
    SnapshotJson = "{""name"":" & JsonString(book.Name) & ",""sheets"":[" & Join(sheets, ",") & "],""selection"":" _
                   & SelectionJson() & "}"
End Function

' The selected cells' values; [] when the selection is not a range (a shape, a chart).
Private Function SelectionJson() As String
    Dim values As Variant
    SelectionJson = "[]"
    On Error GoTo Done
    If TypeName(Application.Selection) = "Range" Then
        values = Application.Selection.Value2
        SelectionJson = RowsJson(values)
    End If
Done:
End Function

' One sheet: values from A1 to the end of the used range, merged ranges, and the cells with a fill or a note (a
' whole row with neither is passed over after one question).
Private Function SheetJson(ws As Object) As String
    Dim used As Object, cell As Object, note As Object
    Dim lastRow As Long, lastCol As Long, r As Long, c As Long, i As Long
    Dim last As String, ref As String, area As String, fill As String, noteText As String, values As Variant
    Dim refs As Collection, fills As Collection, notes As Collection, merged As Collection
    Dim cells() As String, areas() As String
    Set refs = New Collection
    Set fills = New Collection
    Set notes = New Collection
    Set merged = New Collection
    Set used = ws.UsedRange
    lastRow = used.Row + used.Rows.Count - 1
    lastCol = used.Column + used.Columns.Count - 1
    last = ColumnLetter(lastCol)
    values = ws.Range("A1:" & last & lastRow).Value2
    For r = 1 To lastRow
        If Not PlainRow(ws.Range("A" & r & ":" & last & r)) Then
            For c = 1 To lastCol
                ref = ColumnLetter(c) & r
                Set cell = ws.Range(ref)
                fill = CellFill(cell)
                If fill <> "" Then
                    refs.Add ref
                    fills.Add fill, ref
                End If
                If cell.MergeCells = True Then
                    area = cell.MergeArea.Address(False, False)
                    If Not HasKey(merged, area) Then merged.Add area, area
                End If
            Next c
        End If
    Next r
    For Each note In ws.Comments
        Set cell = note.Parent
        ref = cell.Address(False, False)
        If Not HasKey(fills, ref) Then
            refs.Add ref
            fills.Add CellFill(cell), ref
        End If
        noteText = note.Text
        If Not HasKey(notes, ref) Then notes.Add noteText, ref
    Next note
    ReDim cells(0 To refs.Count)
    For i = 1 To refs.Count
        ref = refs.Item(i)
        If HasKey(notes, ref) Then noteText = JsonString(notes.Item(ref)) Else noteText = "null"
        cells(i) = JsonString(ref) & ":{""fill"":" & JsonString(fills.Item(ref)) & ",""note"":" & noteText & "}"
    Next i
    ReDim areas(0 To merged.Count)
    For i = 1 To merged.Count
        areas(i) = JsonString(merged.Item(i))
    Next i
    SheetJson = "{""name"":" & JsonString(ws.Name) & ",""values"":" & RowsJson(values) & ",""merged"":[" _
                & Mid$(Join(areas, ","), 2) & "],""cells"":{" & Mid$(Join(cells, ","), 2) & "}}"
End Function

' A row with no fill and no merged cell: Excel answers Null for a mixed row, which is not plain.
Private Function PlainRow(row As Object) As Boolean
    Dim colour As Variant, merged As Variant
    colour = row.Interior.ColorIndex
    merged = row.MergeCells
    If IsNull(colour) Or IsNull(merged) Then Exit Function
    PlainRow = (colour = XL_NONE And merged = False)
End Function

Private Function CellFill(cell As Object) As String
    If cell.Interior.ColorIndex <> XL_NONE Then CellFill = ColorHex(cell.Interior.Color)
End Function

' A range's values as rows: one cell's value, or Value2's 2-D array.
Public Function RowsJson(values As Variant) As String
    If IsArray(values) Then
        RowsJson = JsonEncode(values)
    Else
        RowsJson = "[[" & JsonEncode(values) & "]]"
    End If
End Function

' ------------------------------------------------------------------------------------------------ applying

' main.js's xltApply: every sheet and cell the patch touches checked first, then restore, paint, writes, delete,
' tables, the sheet to show, the message.
Private Sub ApplyPatch(book As Object, patch As Variant)
    Dim refused As String, items As Variant, one As Variant, ws As Object, cell As Object, i As Long, value As String
    refused = Refusal(book, patch)
    If refused <> "" Then
        Say refused, vbExclamation
        Exit Sub
    End If
    Application.ScreenUpdating = False
    Set items = Member(patch, "restore")
    For i = 1 To items.Count
        Set one = At(items, i)
        Set ws = FindSheet(book, CStr(Member(one, "sheet")))
        If Not ws Is Nothing Then
            Set cell = ws.Range(CStr(Member(one, "cell")))
            PaintCell cell, CStr(Member(one, "fill"))
            If Member(one, "note") = "none" Then
                cell.ClearComments
            ElseIf Member(one, "note") = "text" Then
                SetNote cell, CStr(Member(one, "text"))
            End If
        End If
    Next i
    Set items = Member(patch, "paint")
    For i = 1 To items.Count
        Set one = At(items, i)
        Set cell = FindSheet(book, CStr(Member(one, "sheet"))).Range(CStr(Member(one, "cell")))
        cell.Interior.Color = ColorFromHex(CStr(Member(one, "fill")))
        If Not IsNull(Member(one, "note")) Then SetNote cell, CStr(Member(one, "note"))
    Next i
    Set items = Member(patch, "writes")
    For i = 1 To items.Count
        Set one = At(items, i)
        Set cell = FindSheet(book, CStr(Member(one, "sheet"))).Range(CStr(Member(one, "cell")))
        value = CStr(Member(one, "value"))
        If Len(value) > 0 Then
            If InStr(FORMULA_START, Left$(value, 1)) > 0 Then cell.NumberFormat = "@"
        End If
        cell.Value2 = value
    Next i
    Set items = Member(patch, "delete")
    For i = 1 To items.Count
        Set ws = FindSheet(book, CStr(At(items, i)))
        If Not ws Is Nothing Then
            Application.DisplayAlerts = False
            ws.Delete
            Application.DisplayAlerts = True
        End If
    Next i
    Set items = Member(patch, "tables")
    For i = 1 To items.Count
        TableSheet book, At(items, i)
    Next i
    If VarType(Member(patch, "activate")) = vbString Then
        Set ws = FindSheet(book, CStr(Member(patch, "activate")))
        If Not ws Is Nothing Then ws.Activate
    End If
    Application.ScreenUpdating = True
    If CStr(Member(patch, "message")) <> "" Then Say CStr(Member(patch, "message"))
End Sub

' Why the patch cannot be applied ("" when it can): a protected sheet it marks, a locked cell it writes, a protected
' structure it adds sheets to, a threaded comment where it writes a note (Excel's AddComment fails there).
Private Function Refusal(book As Object, patch As Variant) As String
    Dim formatted As Collection, threaded As Collection, items As Variant, one As Variant, ws As Object
    Dim name As String, i As Long, part As Variant, list As String, noted As Boolean
    Set formatted = New Collection
    Set threaded = New Collection
    For Each part In Array("restore", "paint")
        Set items = Member(patch, CStr(part))
        For i = 1 To items.Count
            Set one = At(items, i)
            name = CStr(Member(one, "sheet"))
            If Not HasKey(formatted, "k" & HexText(name)) Then formatted.Add name, "k" & HexText(name)
            Set ws = FindSheet(book, name)
            noted = False
            If part = "paint" Then noted = Not IsNull(Member(one, "note")) Else noted = (Member(one, "note") = "text")
            If noted And Not ws Is Nothing Then
                If HasThreaded(ws.Range(CStr(Member(one, "cell")))) Then AddThreaded threaded, name, CStr(Member(one, "cell"))
            End If
        Next i
    Next part
    For i = 1 To formatted.Count
        Set ws = FindSheet(book, CStr(formatted.Item(i)))
        If Not ws Is Nothing Then
            If ws.ProtectContents Then
                Refusal = FromHex("5DE54F5C8868201C") & formatted.Item(i) & FromHex("201D53D74FDD62A4FF0C65E06CD568076CE830028BF7514864A495004FDD62A4FF085BA1960500202192002064A495005DE54F5C88684FDD62A4FF09540E518D70B951FB3002")
                Exit Function
            End If
        End If
    Next i
    Set items = Member(patch, "writes")
    For i = 1 To items.Count
        Set one = At(items, i)
        Set ws = FindSheet(book, CStr(Member(one, "sheet")))
        If Not ws Is Nothing Then
            If ws.ProtectContents Then
                If ws.Range(CStr(Member(one, "cell"))).Locked = True Then
                    Refusal = FromHex("5DE54F5C8868201C") & Member(one, "sheet") & FromHex("201D76840020") & Member(one, "cell") _
                              & FromHex("002053555143683C53D74FDD62A4FF0C65E06CD54FEE6B6330028BF7514864A495005DE54F5C88684FDD62A4540E518D70B951FB3002")
                    Exit Function
                End If
            End If
        End If
    Next i
    If Member(patch, "tables").Count + Member(patch, "delete").Count > 0 Then
        If book.ProtectStructure Then
            Refusal = FromHex("5DE54F5C7C3F7ED3678453D74FDD62A4FF0C65E06CD56DFB52A0201C95EE98986E055355201D30028BF7514864A495004FDD62A4FF085BA196050020219200204FDD62A45DE54F5C7C3FFF09540E518D70B951FB3002")
            Exit Function
        End If
    End If
    If threaded.Count > 0 Then
        For i = 1 To threaded.Count
            Set one = threaded.Item(i)
            If list <> "" Then list = list & FromHex("FF1B")
            list = list & FromHex("5DE54F5C8868201C") & one.Item(1) & FromHex("201D76840020") & CellList(one)
        Next i
        Refusal = list & FromHex("670965B05F0F62796CE8FF0853EF56DE590D768462796CE8FF09FF0C53F08D265DE5517765E06CD557288FD94E9B53555143683C4E0A52A068076CE830028BF751488BB04E0B62796CE851855BB9FF0C522096648FD94E9B62796CE8FF0853F3952E53555143683C0020219200205220966462796CE8FF09FF0C9700898165F66539752859076CE8FF085BA1960500202192002059076CE800202192002065B05EFA59076CE8FF09FF0C518D70B951FB30025DE54F5C7C3F6CA1670988AB653952A83002")
    End If
End Function

' threaded: one Collection per sheet (its name first, then its cells), keyed by the sheet's hex.
Private Sub AddThreaded(threaded As Collection, sheet As String, cell As String)
    Dim one As Collection
    If Not HasKey(threaded, "k" & HexText(sheet)) Then
        Set one = New Collection
        one.Add sheet
        threaded.Add one, "k" & HexText(sheet)
    End If
    Set one = threaded.Item("k" & HexText(sheet))
    If Not HasKey(one, cell) Then one.Add cell, cell
End Sub

Private Function CellList(one As Collection) As String
    Dim i As Long, out As String
    For i = 2 To one.Count
        If i - 1 > THREADED_SHOWN Then Exit For
        If i > 2 Then out = out & FromHex("3001")
        out = out & one.Item(i)
    Next i
    If one.Count - 1 > THREADED_SHOWN Then
        CellList = out & FromHex("00207B490020") & (one.Count - 1) & FromHex("0020590453555143683C")
    Else
        CellList = out & FromHex("002053555143683C")
    End If
End Function

' A Microsoft 365 threaded comment on the cell (Excel before 365 has no CommentThreaded: none).
Private Function HasThreaded(cell As Object) As Boolean
    Dim thread As Object
    On Error Resume Next
    Set thread = cell.CommentThreaded
    HasThreaded = Not thread Is Nothing
End Function

Private Function FindSheet(book As Object, name As String) As Object
    Dim ws As Object
    For Each ws In book.Worksheets
        If ws.Name = name Then
            Set FindSheet = ws
            Exit Function
        End If
    Next ws
End Function

Private Sub SetNote(cell As Object, text As String)
    cell.ClearComments
    cell.AddComment text
End Sub

' "" no fill; "unknown" left as it is (main.js's xltPaint).
Private Sub PaintCell(cell As Object, fill As String)
    If fill = "" Then
        cell.Interior.ColorIndex = XL_NONE
    ElseIf fill <> "unknown" Then
        cell.Interior.Color = ColorFromHex(fill)
    End If
End Sub

' A patch's table as a sheet at the end of the workbook (main.js's xltTable).
Private Sub TableSheet(book As Object, table As Variant)
    Dim ws As Object, rows As Variant, row As Variant, values() As Variant, one As Variant, cell As Object
    Dim name As String, last As String, col As String, r As Long, c As Long, n As Long, width As Long
    name = CStr(Member(table, "name"))
    Set ws = FindSheet(book, name)
    If Not ws Is Nothing Then
        Application.DisplayAlerts = False
        ws.Delete
        Application.DisplayAlerts = True
    End If
    Set ws = book.Worksheets.Add(After:=book.Worksheets(book.Worksheets.Count))
    ws.Name = name
    Set rows = Member(table, "rows")
    n = rows.Count
    For r = 1 To n
        If At(rows, r).Count > width Then width = At(rows, r).Count
    Next r
    If n > 0 And width > 0 Then
        ReDim values(1 To n, 1 To width)
        For r = 1 To n
            Set row = At(rows, r)
            For c = 1 To width
                values(r, c) = ""
                If c <= row.Count Then
                    If Not IsNull(At(row, c)) Then values(r, c) = At(row, c)
                End If
            Next c
        Next r
        last = ColumnLetter(width) & n
        For c = 1 To width
            col = ColumnLetter(c)
            If Not Listed(Member(table, "numeric"), c) Then ws.Range(col & "1:" & col & n).NumberFormat = "@"
        Next c
        ws.Range("A1:" & last).Value2 = values
        If Member(table, "styled") Then
            ws.Range("A1:" & last).Font.Name = FromHex("4EFF5B8B")
            ws.Range("A1:" & last).Font.Size = 11
            With ws.Range("A1:" & ColumnLetter(width) & "1")
                .Font.Name = FromHex("9ED14F53")
                .Font.Bold = True
                .Interior.Color = ColorFromHex("#D9D9D9")
            End With
            Set one = Member(table, "widths")
            For c = 1 To one.Count
                If Listed(Member(table, "hidden"), c) Then
                    ws.Range(ColumnLetter(c) & "1").ColumnWidth = 0
                Else
                    ws.Range(ColumnLetter(c) & "1").ColumnWidth = At(one, c)
                End If
            Next c
            Set one = Member(table, "wrapped")
            For c = 1 To one.Count
                col = ColumnLetter(CLng(At(one, c)))
                ws.Range(col & "1:" & col & n).WrapText = True
            Next c
        End If
    End If
    Set rows = Member(table, "fills")
    For r = 1 To rows.Count
        Set one = At(rows, r)
        ws.Range(ColumnLetter(CLng(At(one, 2))) & CLng(At(one, 1))).Interior.Color = ColorFromHex(CStr(At(one, 3)))
    Next r
    Set rows = Member(table, "links")
    For r = 1 To rows.Count
        Set one = At(rows, r)
        Set cell = ws.Range(ColumnLetter(CLng(At(one, 2))) & CLng(At(one, 1)))
        ws.Hyperlinks.Add Anchor:=cell, Address:="", _
            SubAddress:="'" & Replace(CStr(At(one, 3)), "'", "''") & "'!" & CStr(At(one, 4)), _
            ScreenTip:=FromHex("8F6C52300020") & CStr(At(one, 3)) & "!" & CStr(At(one, 4)), TextToDisplay:=CStr(At(one, 4))
    Next r
    If Not Member(table, "visible") Then ws.Visible = XL_SHEET_HIDDEN
End Sub

Private Function Listed(list As Variant, n As Long) As Boolean
    Dim i As Long
    For i = 1 To list.Count
        If At(list, i) = n Then
            Listed = True
            Exit Function
        End If
    Next i
End Function

' ------------------------------------------------------------------------------------------------ small pure pieces

' 1 -> A, 27 -> AA (main.js's xltColumn).
Public Function ColumnLetter(ByVal col As Long) As String
    Dim out As String, remainder As Long
    Do While col > 0
        remainder = (col - 1) Mod 26
        out = Chr$(65 + remainder) & out
        col = (col - 1) \ 26
    Loop
    ColumnLetter = out
End Function

' "#RRGGBB" as Excel's BGR colour number.
Public Function ColorFromHex(ByVal hex As String) As Long
    hex = Replace(hex, "#", "")
    ColorFromHex = HexValue(Mid$(hex, 1, 2)) + HexValue(Mid$(hex, 3, 2)) * 256 + HexValue(Mid$(hex, 5, 2)) * 65536
End Function

' Excel's BGR colour number as "#RRGGBB".
Public Function ColorHex(ByVal colour As Long) As String
    ColorHex = "#" & Right$("0" & Hex$(colour And 255), 2) & Right$("0" & Hex$((colour \ 256) And 255), 2) _
               & Right$("0" & Hex$((colour \ 65536) And 255), 2)
End Function

Public Function HexValue(ByVal digits As String) As Long
    Dim i As Long, d As Long
    For i = 1 To Len(digits)
        d = InStr(HEX_DIGITS, UCase$(Mid$(digits, i, 1))) - 1
        If d < 0 Then Err.Raise 5, , "not a hex digit: " & digits
        HexValue = HexValue * 16 + d
    Next i
End Function

Private Function FromHex(ByVal h As String) As String
    Dim i As Long, out As String
    For i = 1 To Len(h) Step 4
        out = out & ChrW$(HexValue(Mid$(h, i, 4)))
    Next i
    FromHex = out
End Function

' Each UTF-16 code unit as 4 hex digits (a Collection key that keeps case).
Private Function HexText(ByVal s As String) As String
    Dim i As Long, out As String
    For i = 1 To Len(s)
        out = out & Right$("000" & Hex$(AscW(Mid$(s, i, 1)) And 65535), 4)
    Next i
    HexText = out
End Function

' UTF-8 bytes (ServerXMLHTTP's responseBody) as text; the desk answers in UTF-8 with no charset named.
Public Function Utf8Decode(bytes As Variant) As String
    Dim i As Long, j As Long, k As Long, b As Long, code As Long, extra As Long, out As String
    If Not IsArray(bytes) Then Exit Function
    If UBound(bytes) < LBound(bytes) Then Exit Function
    out = Space$(UBound(bytes) - LBound(bytes) + 1)  ' never more UTF-16 units than bytes
    i = LBound(bytes)
    Do While i <= UBound(bytes)
        b = bytes(i)
        If b < 128 Then
            code = b
            extra = 0
        ElseIf b >= 240 Then
            code = b And 7
            extra = 3
        ElseIf b >= 224 Then
            code = b And 15
            extra = 2
        ElseIf b >= 192 Then
            code = b And 31
            extra = 1
        Else
            code = 65533
            extra = 0
        End If
        For j = 1 To extra
            If i + j > UBound(bytes) Then Exit For
            code = code * 64 + (bytes(i + j) And 63)
        Next j
        i = i + 1 + extra
        If code >= 65536 Then
            code = code - 65536
            k = k + 1
            Mid$(out, k, 1) = ChrW$(55296 + code \ 1024)
            k = k + 1
            Mid$(out, k, 1) = ChrW$(56320 + (code And 1023))
        Else
            k = k + 1
            Mid$(out, k, 1) = ChrW$(code)
        End If
    Loop
    Utf8Decode = Left$(out, k)
End Function

' ------------------------------------------------------------------------------------------------ JSON

' A value as JSON: strings escaped with every non-ASCII character as \uXXXX (the body is ASCII whatever the code
' page), numbers with "." whatever the locale, Empty as "" (an empty cell), Excel's errors as their text.
Public Function JsonEncode(value As Variant) As String
    If IsObject(value) Then
        If value Is Nothing Then
            JsonEncode = "null"
        ElseIf HasKey(value, "~") Then
            JsonEncode = EncodeObject(value)
        Else
            JsonEncode = EncodeList(value)
        End If
    ElseIf IsArray(value) Then
        JsonEncode = EncodeArray(value)
    Else
        Select Case VarType(value)
        Case vbEmpty
            JsonEncode = """"""
        Case vbNull
            JsonEncode = "null"
        Case vbString
            JsonEncode = JsonString(value)
        Case vbBoolean
            If value Then JsonEncode = "true" Else JsonEncode = "false"
        Case vbError
            JsonEncode = JsonString(ErrorText(value))
        Case vbInteger, vbLong, vbSingle, vbDouble, vbCurrency, vbDate, vbByte, vbDecimal
            JsonEncode = NumberText(CDbl(value))
        Case Else
            JsonEncode = JsonString(CStr(value))
        End Select
    End If
End Function

Public Function JsonString(ByVal s As String) As String
    Dim i As Long, code As Long, ch As String, parts() As String
    If Len(s) = 0 Then
        JsonString = """"""
        Exit Function
    End If
    ReDim parts(1 To Len(s))
    For i = 1 To Len(s)
        ch = Mid$(s, i, 1)
        code = AscW(ch) And 65535
        If ch = """" Or ch = "\" Then
            parts(i) = "\" & ch
        ElseIf code < 32 Or code > 126 Then
            parts(i) = "\u" & Right$("000" & Hex$(code), 4)
        Else
            parts(i) = ch
        End If
    Next i
    JsonString = """" & Join(parts, "") & """"
End Function

' Str$ always writes "." (never the locale's decimal comma) but drops the 0 before it.
Public Function NumberText(ByVal d As Double) As String
    Dim s As String
    s = Trim$(Str$(d))
    If Left$(s, 1) = "." Then s = "0" & s
    If Left$(s, 2) = "-." Then s = "-0" & Mid$(s, 2)
    NumberText = s
End Function

Private Function ErrorText(value As Variant) As String
    Dim codes As Variant, texts As Variant, i As Long
    codes = Array(2000, 2007, 2015, 2023, 2029, 2036, 2042)
    texts = Array("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")
    For i = 0 To 6
        If value = CVErr(codes(i)) Then
            ErrorText = texts(i)
            Exit Function
        End If
    Next i
    ErrorText = "#N/A"
End Function

Private Function EncodeObject(obj As Variant) As String
    Dim names As Collection, parts() As String, i As Long
    Set names = obj.Item("~")
    ReDim parts(0 To names.Count)
    For i = 1 To names.Count
        parts(i) = JsonString(names.Item(i)) & ":" & JsonEncode(Member(obj, CStr(names.Item(i))))
    Next i
    EncodeObject = "{" & Mid$(Join(parts, ","), 2) & "}"
End Function

Private Function EncodeList(list As Variant) As String
    Dim parts() As String, i As Long
    ReDim parts(0 To list.Count)
    For i = 1 To list.Count
        parts(i) = JsonEncode(At(list, i))
    Next i
    EncodeList = "[" & Mid$(Join(parts, ","), 2) & "]"
End Function

' A 1-D array, or a 2-D one (Range.Value2) as a list of rows.
Private Function EncodeArray(values As Variant) As String
    Dim rows() As String, cells() As String, r As Long, c As Long, twoD As Boolean, top As Long
    On Error Resume Next
    top = UBound(values, 2)
    twoD = (Err.Number = 0)
    On Error GoTo 0
    If Not twoD Then
        If UBound(values) < LBound(values) Then
            EncodeArray = "[]"
            Exit Function
        End If
        ReDim cells(LBound(values) To UBound(values))
        For c = LBound(values) To UBound(values)
            cells(c) = JsonEncode(values(c))
        Next c
        EncodeArray = "[" & Join(cells, ",") & "]"
        Exit Function
    End If
    ReDim rows(LBound(values, 1) To UBound(values, 1))
    ReDim cells(LBound(values, 2) To top)
    For r = LBound(values, 1) To UBound(values, 1)
        For c = LBound(values, 2) To top
            cells(c) = JsonEncode(values(r, c))
        Next c
        rows(r) = "[" & Join(cells, ",") & "]"
    Next r
    EncodeArray = "[" & Join(rows, ",") & "]"
End Function

' JSON text as values (objects and arrays as Collections, see the top); a malformed text raises error 5.
Public Function JsonParse(ByVal text As String) As Variant
    Dim pos As Long, value As Variant
    pos = 1
    ParseValue text, pos, value
    SkipSpace text, pos
    If pos <= Len(text) Then Malformed pos
    If IsObject(value) Then Set JsonParse = value Else JsonParse = value
End Function

' An object's member (Null when it has none).
Public Function Member(obj As Variant, name As String) As Variant
    Dim key As String
    key = "k" & HexText(name)
    If Not HasKey(obj, key) Then
        Member = Null
    ElseIf IsObject(obj.Item(key)) Then
        Set Member = obj.Item(key)
    Else
        Member = obj.Item(key)
    End If
End Function

' A list's i-th item (from 1).
Public Function At(list As Variant, i As Long) As Variant
    If IsObject(list.Item(i)) Then Set At = list.Item(i) Else At = list.Item(i)
End Function

Private Sub Assign(target As Variant, value As Variant)
    If IsObject(value) Then Set target = value Else target = value
End Sub

Private Function HasKey(list As Variant, key As String) As Boolean
    Dim probe As Boolean
    On Error Resume Next
    probe = IsObject(list.Item(key))
    HasKey = (Err.Number = 0)
    Err.Clear
End Function

Private Sub Malformed(pos As Long)
    Err.Raise 5, , "JSON: unexpected text at " & pos
End Sub

Private Sub SkipSpace(text As String, pos As Long)
    Do While pos <= Len(text)
        Select Case Mid$(text, pos, 1)
        Case " ", vbTab, vbCr, vbLf
            pos = pos + 1
        Case Else
            Exit Do
        End Select
    Loop
End Sub

Private Sub ParseValue(text As String, pos As Long, value As Variant)
    Dim list As Collection, item As Variant
    SkipSpace text, pos
    Select Case Mid$(text, pos, 1)
    Case "{"
        ParseObject text, pos, value
    Case "["
        Set list = New Collection
        pos = pos + 1
        SkipSpace text, pos
        If Mid$(text, pos, 1) = "]" Then
            pos = pos + 1
        Else
            Do
                item = Empty
                ParseValue text, pos, item
                list.Add item
                SkipSpace text, pos
                pos = pos + 1
                If Mid$(text, pos - 1, 1) = "]" Then Exit Do
                If Mid$(text, pos - 1, 1) <> "," Then Malformed pos - 1
            Loop
        End If
        Set value = list
    Case """"
        value = ParseString(text, pos)
    Case "t"
        Expect text, pos, "true"
        value = True
    Case "f"
        Expect text, pos, "false"
        value = False
    Case "n"
        Expect text, pos, "null"
        value = Null
    Case Else
        value = ParseNumber(text, pos)
    End Select
End Sub

Private Sub ParseObject(text As String, pos As Long, value As Variant)
    Dim obj As Collection, names As Collection, name As String, key As String, member_ As Variant
    Set obj = New Collection
    Set names = New Collection
    obj.Add names, "~"
    pos = pos + 1
    SkipSpace text, pos
    If Mid$(text, pos, 1) = "}" Then
        pos = pos + 1
    Else
        Do
            SkipSpace text, pos
            If Mid$(text, pos, 1) <> """" Then Malformed pos
            name = ParseString(text, pos)
            SkipSpace text, pos
            Expect text, pos, ":"
            member_ = Empty
            ParseValue text, pos, member_
            key = "k" & HexText(name)
            If HasKey(obj, key) Then
                obj.Remove key  ' a repeated name: the last one counts, as in Python
            Else
                names.Add name
            End If
            obj.Add member_, key
            SkipSpace text, pos
            pos = pos + 1
            If Mid$(text, pos - 1, 1) = "}" Then Exit Do
            If Mid$(text, pos - 1, 1) <> "," Then Malformed pos - 1
        Loop
    End If
    Set value = obj
End Sub

' A string at pos (its opening quote); runs without escapes are taken whole.
Private Function ParseString(text As String, pos As Long) As String
    Dim out As String, quote As Long, slash As Long, ch As String
    pos = pos + 1
    Do
        quote = InStr(pos, text, """")
        If quote = 0 Then Malformed pos
        slash = InStr(pos, text, "\")
        If slash = 0 Or slash > quote Then
            ParseString = out & Mid$(text, pos, quote - pos)
            pos = quote + 1
            Exit Function
        End If
        out = out & Mid$(text, pos, slash - pos)
        ch = Mid$(text, slash + 1, 1)
        pos = slash + 2
        Select Case ch
        Case """", "\", "/"
            out = out & ch
        Case "b"
            out = out & Chr$(8)
        Case "f"
            out = out & Chr$(12)
        Case "n"
            out = out & vbLf
        Case "r"
            out = out & vbCr
        Case "t"
            out = out & vbTab
        Case "u"
            out = out & ChrW$(HexValue(Mid$(text, pos, 4)))
            pos = pos + 4
        Case Else
            Malformed slash
        End Select
    Loop
End Function

' Val reads "." as the decimal point whatever the locale.
Private Function ParseNumber(text As String, pos As Long) As Double
    Dim start As Long
    start = pos
    Do While pos <= Len(text)
        If InStr("+-0123456789.eE", Mid$(text, pos, 1)) = 0 Then Exit Do
        pos = pos + 1
    Loop
    If pos = start Then Malformed pos
    ParseNumber = Val(Mid$(text, start, pos - start))
End Function

Private Sub Expect(text As String, pos As Long, word As String)
    If Mid$(text, pos, Len(word)) <> word Then Malformed pos
    pos = pos + Len(word)
End Sub
