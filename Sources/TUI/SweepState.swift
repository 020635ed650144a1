import Foundation
import Formats
import Pipeline

/// A sweep in the UI: the plan (one or two knobs over the current settings, one seed), the
/// queued run of each cell, what has finished, and the cell the arrows are on.
public struct SweepState {
    public let plan: SweepPlan
    /// Job id of each cell, row-major.
    public let jobIDs: [Int]
    public var images: [Int: ShownImage] = [:]
    public var files: [Int: URL] = [:]
    public var failed: Set<Int> = []
    /// Each finished cell's identity score (absent without a scorer or a face).
    public var scores: [Int: IdentityScore] = [:]
    public var selection = 0

    public var cellCount: Int { plan.rows * plan.columns }
    public var finishedCount: Int { files.count + failed.count }

    public func cell(ofJob id: Int) -> Int? { jobIDs.firstIndex(of: id) }

    /// The request of cell `index` (row-major).
    public func request(_ index: Int) -> GenerationRequest {
        plan.request(row: index / plan.columns, column: index % plan.columns)
    }

    public func label(_ index: Int) -> String {
        let row = index / plan.columns, column = index % plan.columns
        return ([plan.x.label(column)] + (plan.y.map { [$0.label(row)] } ?? [])).joined(separator: " ")
    }

    /// The cell's values only ("0.5 · 1"), for the narrow caption under it.
    public func values(_ index: Int) -> String {
        let row = index / plan.columns, column = index % plan.columns
        func value(_ label: String) -> String { String(label.split(separator: "=").last ?? "") }
        return ([value(plan.x.label(column))] + (plan.y.map { [value($0.label(row))] } ?? [])).joined(separator: " · ")
    }

    /// Moves the selection by columns and rows, staying on the grid.
    public mutating func move(columns: Int, rows: Int) {
        let row = min(max(selection / plan.columns + rows, 0), plan.rows - 1)
        let column = min(max(selection % plan.columns + columns, 0), plan.columns - 1)
        selection = row * plan.columns + column
    }

    /// "x image-weight=0.5,1,1.5 y text-weight=0.5,1,1.5": the entry line's text for a plan.
    public static let defaultAxes = "x image-weight=0,0.5,1,1.5 y text-weight=0.5,1,1.5"

    /// Reads the entry line: `x KNOB=V,... [y KNOB=V,...]`.
    public static func axes(parsing text: String) throws -> (SweepAxis, SweepAxis?) {
        let words = text.split(separator: " ").map(String.init)
        var x: SweepAxis?, y: SweepAxis?
        var index = 0
        while index < words.count {
            guard index + 1 < words.count, ["x", "y"].contains(words[index]) else {
                throw InvalidRequest("sweep: expected 'x KNOB=V1,V2,... [y KNOB=V1,...]', got '\(text.terminalSafe)'")
            }
            let axis = try SweepAxis(parsing: words[index + 1])
            if words[index] == "x" { x = axis } else { y = axis }
            index += 2
        }
        guard let x else { throw InvalidRequest("sweep: give at least the x axis, e.g. \(defaultAxes)") }
        return (x, y)
    }
}
