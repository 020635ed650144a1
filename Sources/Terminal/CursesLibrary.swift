import CNcursesw

/// Facts about the linked ncursesw (the UI itself arrives with issue [5 of 5]).
public enum CursesLibrary {
    public static var version: String { String(cString: curses_version()) }
}
