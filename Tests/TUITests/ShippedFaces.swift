import Pipeline

/// The repository's face detector and mesh, located as the front end locates them (the test
/// binary runs from .build/ inside the checkout).
let shippedFaces = FaceModels(ShippedResources.locate())
