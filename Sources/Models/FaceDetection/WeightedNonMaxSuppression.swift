/// MediaPipe's NonMaxSuppressionCalculator (IoU overlap).
///
/// WEIGHTED (what the face detector uses): take the best remaining detection, gather every
/// remaining one overlapping it by more than the threshold (itself included), and emit the
/// score-weighted average of their boxes and keypoints with the best one's score; the rest
/// go round again. DEFAULT: plain greedy suppression, the best box kept as is.
public enum NonMaxSuppression {
    public static func apply(_ detections: [FaceDetection], threshold: Float, weighted: Bool = true) -> [FaceDetection] {
        // Stable sort: equal scores keep the anchor order, so results do not depend on the sort.
        var remaining = detections.enumerated().sorted {
            $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset
        }.map(\.element)
        var kept: [FaceDetection] = []
        while let best = remaining.first {
            var cluster: [FaceDetection] = [], rest: [FaceDetection] = []
            for candidate in remaining {
                if candidate.box.intersectionOverUnion(best.box) > threshold {
                    cluster.append(candidate)
                } else {
                    rest.append(candidate)
                }
            }
            if weighted && !cluster.isEmpty {
                kept.append(blend(cluster, score: best.score))
            } else {
                kept.append(best)
            }
            // A degenerate (empty) best box overlaps nothing, not even itself; MediaPipe stops there.
            if rest.count == remaining.count { break }
            remaining = rest
        }
        return kept
    }

    static func blend(_ cluster: [FaceDetection], score: Float) -> FaceDetection {
        var total: Float = 0
        var box = BoundingBox(xmin: 0, ymin: 0, xmax: 0, ymax: 0)
        var keypoints = [SIMD2<Float>](repeating: .zero, count: cluster[0].keypoints.count)
        for detection in cluster {
            let w = detection.score
            total += w
            box.xmin += detection.box.xmin * w
            box.ymin += detection.box.ymin * w
            box.xmax += detection.box.xmax * w
            box.ymax += detection.box.ymax * w
            for k in keypoints.indices { keypoints[k] += detection.keypoints[k] * w }
        }
        box = BoundingBox(xmin: box.xmin / total, ymin: box.ymin / total, xmax: box.xmax / total, ymax: box.ymax / total)
        return FaceDetection(score: score, box: box, keypoints: keypoints.map { $0 / total })
    }
}
