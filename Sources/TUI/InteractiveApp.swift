/// The interactive terminal UI (issue [5 of 5]); built on the Pipeline API only.
public enum InteractiveApp {}
