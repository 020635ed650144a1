import Foundation

/// MediaPipe's TensorsToDetectionsCalculator for one class: raw logits and regressors plus
/// anchors -> detections above the score threshold, in coordinates relative to the input.
public enum DetectionDecoder {
    public static func decode(scores: [Float], regressors: [Float], anchors: [SSDAnchor],
                              options o: FaceDetectorConfig.Decoding, minScore: Float? = nil) -> [FaceDetection] {
        precondition(scores.count == o.numBoxes && anchors.count == o.numBoxes && regressors.count == o.numBoxes * o.numCoords,
                     "decoding expects \(o.numBoxes) boxes: got \(scores.count) scores, \(anchors.count) anchors, \(regressors.count) regressor values")
        let threshold = minScore ?? o.minScoreThresh
        var found: [FaceDetection] = []
        for i in 0..<o.numBoxes {
            var score = scores[i]
            if o.sigmoidScore {
                // Clipping keeps exp() finite, as MediaPipe does.
                let clipped = min(max(score, -o.scoreClippingThresh), o.scoreClippingThresh)
                score = 1 / (1 + Foundation.exp(-clipped))
            }
            guard score >= threshold else { continue }
            let anchor = anchors[i]
            let raw = i * o.numCoords
            let r = regressors
            let b = raw + o.boxCoordOffset
            // reverse_output_order: the model writes x, y, w, h (else y, x, h, w).
            let (rx, ry, rw, rh) = o.reverseOutputOrder ? (r[b], r[b + 1], r[b + 2], r[b + 3]) : (r[b + 1], r[b], r[b + 3], r[b + 2])
            let xCenter = rx / o.xScale * anchor.width + anchor.xCenter
            let yCenter = ry / o.yScale * anchor.height + anchor.yCenter
            let w = rw / o.wScale * anchor.width
            let h = rh / o.hScale * anchor.height
            var keypoints: [SIMD2<Float>] = []
            for k in 0..<o.numKeypoints {
                let p = raw + o.keypointCoordOffset + k * o.numValuesPerKeypoint
                let (kx, ky) = o.reverseOutputOrder ? (r[p], r[p + 1]) : (r[p + 1], r[p])
                keypoints.append(SIMD2(kx / o.xScale * anchor.width + anchor.xCenter,
                                       ky / o.yScale * anchor.height + anchor.yCenter))
            }
            found.append(FaceDetection(score: score,
                                       box: BoundingBox(xmin: xCenter - w / 2, ymin: yCenter - h / 2,
                                                        xmax: xCenter + w / 2, ymax: yCenter + h / 2),
                                       keypoints: keypoints))
        }
        return found
    }
}
