import Pipeline

/// The folders shipped beside the program, located once, when a command first needs them, and
/// passed on to everything below the front end (see ShippedResources).
enum Shipped {
    static let resources = ShippedResources.locate()
    static let faces = FaceModels(resources)
}
