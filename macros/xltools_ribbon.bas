Attribute VB_Name = "xltools_ribbon"
' Ribbon callbacks of the xltools add-in. Each button's tag names its Python handler (xltools.addin.HANDLERS);
' one callback per kind of button hands the tag, and a chosen path, to Python through xlwings' RunPython - or,
' with DESK_URL configured, to the desk over HTTP (xltools_desk.DeskButton), where Office may not start programs.
' This source must stay ASCII: Chinese text is built from UTF-16 hex codes (FromHex), and paths travel to
' Python as hex too, because RunPython's command line would mangle non-ASCII characters.
Option Explicit

Private Const DISPATCH As String = "import xltools.addin as a; a.dispatch('"
Private Const FILE_PICKER As Long = 3    ' msoFileDialogFilePicker
Private Const FOLDER_PICKER As Long = 4  ' msoFileDialogFolderPicker
Private Const PLAN_FILES As String = "*.docx;*.txt;*.md;*.csv;*.json;*.xlsx;*.xlsm;*.xls;*.xlsb;*.ods"

' Every callback: first an error handler (a Chinese message, never VBA's Debug dialog), then the workbook guard.
Sub OnButton(control As IRibbonControl)
    On Error GoTo Failed
    If Not WorkbookReady() Then Exit Sub
    If ViaDesk(control.Tag, "") Then Exit Sub
    If Not InterpreterReady() Then Exit Sub
    RunPython DISPATCH & control.Tag & "')"
    Exit Sub
Failed:
    ShowFailure
End Sub

Sub OnButtonFile(control As IRibbonControl)
    On Error GoTo Failed
    If Not WorkbookReady() Then Exit Sub
    RunWithPath control, FILE_PICKER
    Exit Sub
Failed:
    ShowFailure
End Sub

Sub OnButtonFolder(control As IRibbonControl)
    On Error GoTo Failed
    If Not WorkbookReady() Then Exit Sub
    RunWithPath control, FOLDER_PICKER
    Exit Sub
Failed:
    ShowFailure
End Sub

Private Sub RunWithPath(control As IRibbonControl, picker As Long)
    Dim chosen As String
    If DeskUrl() = "" Then
        If Not InterpreterReady() Then Exit Sub
    End If
    With Application.FileDialog(picker)
        .AllowMultiSelect = False
        If picker = FILE_PICKER Then  ' what extract reads; the second filter lets anything else be tried
            .Filters.Clear
            .Filters.Add FromHex("65B96848621653F08D26"), PLAN_FILES
            .Filters.Add FromHex("6240670965874EF6"), "*.*"
        End If
        If .Show <> -1 Then Exit Sub  ' cancelled: do nothing
        chosen = .SelectedItems(1)
    End With
    If ViaDesk(control.Tag, chosen) Then Exit Sub
    RunPython DISPATCH & control.Tag & "', path_hex='" & HexPath(chosen) & "')"
End Sub

' The desk route (issue 24): with DESK_URL in the config (`xltools addin install --desk ...`), the button asks
' `xltools serve` over HTTP instead of starting Python, which security software may forbid Office to do.
Private Function ViaDesk(tag As String, chosen As String) As Boolean
    If DeskUrl() = "" Then Exit Function
    DeskButton tag, chosen
    ViaDesk = True
End Function

' Each UTF-16 code unit as 4 hex digits; Python decodes it with bytes.fromhex(h).decode("utf-16-be").
Private Function HexPath(ByVal s As String) As String
    Dim i As Long, out As String
    For i = 1 To Len(s)
        out = out & Right$("000" & Hex$(AscW(Mid$(s, i, 1)) And &HFFFF&), 4)
    Next i
    HexPath = out
End Function

Private Function FromHex(ByVal h As String) As String
    Dim i As Long, out As String
    For i = 1 To Len(h) Step 4
        out = out & ChrW$(CLng("&H" & Mid$(h, i, 4)) And &HFFFF&)
    Next i
    FromHex = out
End Function

' RunPython, and xlwings' config lookup before it, read ActiveWorkbook.FullName: with no workbook open (the add-in
' is never the active one) or a Protected View window in front, that is run-time error 91. Say what to do instead.
Private Function WorkbookReady() As Boolean
    If Not Application.ActiveProtectedViewWindow Is Nothing Then
        MsgBox FromHex("5F53524D5DE54F5C7C3F59044E8E53D74FDD62A4768489C656FE30028BF7514870B951FB7A9753E34E0A65B99EC4827263D0793A680F4E2D7684201C542F75287F168F91201DFF0C518D70B951FB53F08D265DE551777684630994AE3002"), _
            vbExclamation, FromHex("53F08D265DE55177")
    ElseIf ActiveWorkbook Is Nothing Then
        MsgBox FromHex("8BF7514862535F00621665B05EFA4E004E2A5DE54F5C7C3FFF0C518D70B951FB53F08D265DE551777684630994AE3002"), vbExclamation, _
            FromHex("53F08D265DE55177")
    Else
        WorkbookReady = True
    End If
End Function

' A VBA error on the way to Python (security software refusing to start it, a damaged install) or, on the desk
' route, to the desk (not running), in Chinese: what to check depends on the route.
Private Sub ShowFailure()
    Dim number As Long, description As String, cause As String
    number = Err.Number
    description = Err.Description
    If DeskUrl() = "" Then
        cause = FromHex("68C067E5FF1B82E56BCF4E2A630994AE90FD59826B64FF0C53EF80FD662F5B8951688F6F4EF6963B6B624E8600200045007800630065006C0020542F52A800200050007900740068006F006EFF0C8BF74FE1606F6280672F4EBA5458534F52A93002")
    Else
        cause = FromHex("68C067E5FF1B82E56BCF4E2A630994AE90FD59826B64FF0C8BF7786E8BA4672C673A7684653653D153F0FF08") & "xltools serve" _
            & FromHex("FF096B6357288FD0884CFF0C62168BF74FE1606F6280672F4EBA5458534F52A93002")
    End If
    MsgBox FromHex("53F08D265DE55177672A80FD8FD0884CFF0895198BEF0020") & number & ": " & description & FromHex("FF093002") _
        & vbCrLf & vbCrLf & FromHex("8BF75728547D4EE4884C8FD0884C") & " xltools addin doctor " & cause, _
        vbCritical, FromHex("53F08D265DE55177")
End Sub

' xlwings' own message for a missing interpreter is English and cannot be changed: check first, in Chinese.
Private Function InterpreterReady() As Boolean
    Dim interpreter As String, message As String
    #If Mac Then
        InterpreterReady = True
        Exit Function
    #End If
    interpreter = GetConfig("INTERPRETER_WIN", "")
    If interpreter <> "" Then
        If FileExists(interpreter) Then
            InterpreterReady = True
            Exit Function
        End If
        message = FromHex("627E4E0D5230") & " Python" & FromHex("FF1A") & interpreter
    Else
        message = FromHex("5C1A672A8BBE7F6E") & " Python " & FromHex("89E391CA56683002")
    End If
    message = message & vbCrLf & vbCrLf & FromHex("8BF75728547D4EE4884C8FD0884C") & " xltools addin install " _
        & FromHex("91CD65B05B8988C552A08F7D9879FF0C62168BF74FE1606F6280672F4EBA5458534F52A93002")
    MsgBox message, vbExclamation, FromHex("53F08D265DE55177")
End Function
