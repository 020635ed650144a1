/// An SSD anchor: centre and size, relative to the detector input (0...1).
public struct SSDAnchor: Equatable, Sendable {
    public var xCenter: Float
    public var yCenter: Float
    public var width: Float
    public var height: Float

    public init(xCenter: Float, yCenter: Float, width: Float, height: Float) {
        self.xCenter = xCenter
        self.yCenter = yCenter
        self.width = width
        self.height = height
    }
}

/// MediaPipe's SsdAnchorsCalculator: layers that share a stride are merged into one grid,
/// each contributing its aspect ratios (plus the interpolated-scale anchor), cells in
/// row-major order with the cell's anchors together.
public enum SSDAnchors {
    public static func generate(_ options: FaceDetectorConfig.Anchors) -> [SSDAnchor] {
        let strides = options.strides
        func scale(_ index: Int) -> Float {
            if strides.count == 1 { return (options.minScale + options.maxScale) * 0.5 }
            return options.minScale + (options.maxScale - options.minScale) * Float(index) / Float(strides.count - 1)
        }
        var anchors: [SSDAnchor] = []
        var layer = 0
        while layer < options.numLayers && layer < strides.count {
            var ratios: [Float] = [], scales: [Float] = []
            var last = layer
            while last < strides.count && strides[last] == strides[layer] {
                let s = scale(last)
                if last == 0 && options.reduceBoxesInLowestLayer {
                    ratios += [1, 2, 0.5]
                    scales += [0.1, s, s]
                } else {
                    for ratio in options.aspectRatios {
                        ratios.append(ratio)
                        scales.append(s)
                    }
                    if options.interpolatedScaleAspectRatio > 0 {
                        let next: Float = last == strides.count - 1 ? 1 : scale(last + 1)
                        scales.append((s * next).squareRoot())
                        ratios.append(options.interpolatedScaleAspectRatio)
                    }
                }
                last += 1
            }
            let sizes = zip(scales, ratios).map { (width: $0 * $1.squareRoot(), height: $0 / $1.squareRoot()) }
            let stride = strides[layer]
            let rows = (options.inputSizeHeight + stride - 1) / stride
            let columns = (options.inputSizeWidth + stride - 1) / stride
            for y in 0..<rows {
                for x in 0..<columns {
                    for size in sizes {
                        anchors.append(SSDAnchor(
                            xCenter: (Float(x) + options.anchorOffsetX) / Float(columns),
                            yCenter: (Float(y) + options.anchorOffsetY) / Float(rows),
                            width: options.fixedAnchorSize ? 1 : size.width,
                            height: options.fixedAnchorSize ? 1 : size.height))
                    }
                }
            }
            layer = last
        }
        return anchors
    }
}
