import Models

/// Front ends stop runs through the pipeline's API (the flag itself lives with the models,
/// which check it between layers).
public typealias StopFlag = Models.StopFlag
