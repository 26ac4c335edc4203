import Foundation
import Testing
@testable import RiptideBench

@Suite struct FrontierTests {
    func p(_ x: Double, _ y: Double) -> FrontierPoint { FrontierPoint(x: x, y: y) }

    @Test func dominatedPointsAreDropped() {
        // (15,70) is beaten by (20,80) on both axes; (5,90) by (10,100).
        let f = Frontier(pooling: [p(10, 100), p(20, 80), p(15, 70), p(5, 90), p(30, 10)])
        #expect(f.points == [p(10, 100), p(20, 80), p(30, 10)])
    }

    @Test func equalThroughputKeepsHigherInteractivity() {
        // Same y: the one further right dominates (≥ on both axes).
        #expect(Frontier(pooling: [p(10, 50), p(20, 50)]).points == [p(20, 50)])
    }

    @Test func tiesInXKeepTheHigherY() {
        let f = Frontier(pooling: [p(10, 100), p(10, 120), p(20, 50), p(20, 40)])
        #expect(f.points == [p(10, 120), p(20, 50)])
    }

    @Test func ineligiblePointsAreIgnored() {
        let f = Frontier(pooling: [p(0, 500), p(-1, 900), p(.nan, 1), p(10, .infinity), p(10, 100)])
        #expect(f.points == [p(10, 100)])
    }

    @Test func singlePointFront() {
        let f = Frontier(pooling: [p(10, 100), p(5, 50)])
        #expect(f.points == [p(10, 100)])
        #expect(f.value(at: 10) == 100)
        #expect(f.value(at: 10 + 5e-7) == 100)
        #expect(f.value(at: 10.001) == nil)
        #expect(f.value(at: 9.999) == nil)
        #expect(Frontier(pooling: []).value(at: 10) == nil)
    }

    @Test func targetsExactlyAtTheEdges() {
        let f = Frontier(pooling: [p(10, 100), p(20, 80), p(40, 30)])
        #expect(f.value(at: 10) == 100)
        #expect(f.value(at: 40) == 30)
        #expect(f.value(at: 20) == 80)
    }

    @Test func unreachableOnBothSides() {
        let f = Frontier(pooling: [p(10, 100), p(20, 80), p(40, 30)])
        #expect(f.value(at: 9.999) == nil)
        #expect(f.value(at: 40.001) == nil)
        #expect(f.value(at: 0) == nil)
        #expect(f.value(at: .infinity) == nil)
    }

    @Test func twoPointsInterpolateLinearly() {
        let f = Frontier(pooling: [p(10, 100), p(20, 50)])
        #expect(abs(f.value(at: 15)! - 75) < 1e-12)
        #expect(abs(f.value(at: 12)! - 90) < 1e-12)
    }

    @Test func steffenSlopesAndHermiteByHand() {
        // h = (1, 2), s = (−2, −3); interior p = −7/3 → m1 = −2·min(2, 3, 7/6) = −7/3;
        // d3 ends: m0 = (3·−2 + 7/3)/2 = −11/6, m2 = (3·−3 + 7/3)/2 = −10/3.
        let f = Frontier(pooling: [p(1, 10), p(2, 8), p(4, 2)])
        let want = [-11.0 / 6, -7.0 / 3, -10.0 / 3]
        for (a, b) in zip(f.slopes, want) { #expect(abs(a - b) < 1e-12) }
        // t = 0.5: 0.5·10 + 0.125·(−11/6) + 0.5·8 − 0.125·(−7/3) = 9.0625
        #expect(abs(f.value(at: 1.5)! - 9.0625) < 1e-12)
    }

    @Test func flatNeighbourGivesZeroInteriorSlope() {
        // s0 = 0 (sign +1) and s1 < 0: sign sum 0 → m = 0, so the curve is flat at the knot.
        let f = Frontier(pooling: [p(1, 10), p(2, 10 - 1e-9), p(3, 5)])
        #expect(abs(f.slopes[1]) < 1e-6)
    }

    @Test func monotoneBetweenKnots() {
        // A staircase where an unconstrained cubic would overshoot.
        let pts = [p(1, 100), p(2, 99), p(3, 50), p(10, 49), p(11, 1), p(30, 0.5)]
        let f = Frontier(pooling: pts)
        #expect(f.points == pts)
        var prev = Double.infinity
        for i in 0...29_000 {
            let x = 1 + Double(i) / 1000
            let y = f.value(at: x)!
            #expect(y <= prev + 1e-9, "not monotone at x=\(x)")
            #expect(y >= 0.5 && y <= 100)
            // Between two knots the value stays inside the knots' y range.
            let k = f.points.lastIndex { $0.x <= x }!
            if k + 1 < f.points.count {
                #expect(y <= f.points[k].y + 1e-9 && y >= f.points[k + 1].y - 1e-9)
            }
            prev = y
        }
    }

    @Test func bezierControlsMatchHermite() {
        // The chart's Bézier segment is the same cubic: check its midpoint.
        let f = Frontier(pooling: [p(1, 10), p(2, 8), p(4, 2)])
        let (c1, c2) = f.bezierControls(segment: 1)
        let a = f.points[1], b = f.points[2]
        let mid = FrontierPoint(x: (a.x + 3 * c1.x + 3 * c2.x + b.x) / 8, y: (a.y + 3 * c1.y + 3 * c2.y + b.y) / 8)
        #expect(abs(mid.x - 3) < 1e-12)
        #expect(abs(f.value(at: mid.x)! - mid.y) < 1e-12)
    }
}

@Suite struct IsoTableTests {
    func row(_ g: String, _ conc: Int, _ x: Double, _ y: Double) -> ResultRow {
        ResultRow(label: g, date: "", hardware: g, framework: "", isl: 0, osl: 0, conc: conc, group: g,
                  values: ["median_intvty": x, "tput_per_gpu": y])
    }

    @Test func tableNullsAndRatio() throws {
        let rows = [row("old", 1, 40, 100), row("old", 4, 20, 300), row("old", 16, 10, 500),
                    row("new", 1, 50, 200), row("new", 4, 30, 600), row("new", 16, 15, 900)]
        let g = GroupedFrontiers(rows: rows, by: .label)
        #expect(g.groups == ["old", "new"])
        let t = IsoTable(g, targets: [10, 20, 45])
        #expect(t.rows[0].values["old"]! == 500)
        #expect(t.rows[0].values["new"]! == nil)
        #expect(t.rows[0].ratio == nil)
        #expect(t.rows[2].values["old"]! == nil)
        let r1 = try #require(t.rows[1].ratio)
        #expect(abs(r1 - t.rows[1].values["new"]!! / 300) < 1e-12)
        let json = try t.json()
        #expect(json.contains("\"interactivity\" : 10"))
        #expect(json.contains("\"new\" : null"))
        #expect(t.text().contains("unreachable"))
        #expect(t.csv().hasPrefix("interactivity,old,new,ratio new / old\n"))
    }

    @Test func failedPointsStayOffTheFront() {
        var bad = row("a", 8, 100, 10_000)
        bad.values["point_failed"] = 1
        let g = GroupedFrontiers(rows: [row("a", 1, 40, 100), bad], by: .label)
        #expect(g.frontiers["a"]!.points == [FrontierPoint(x: 40, y: 100)])
    }

    @Test func csvInput() throws {
        let rows = try ReportInputs.csvRows("group,conc,tput_per_gpu,median_intvty\n\"a,b\",1,100.5,40\nc,2,10,5\n")
        #expect(rows.count == 2)
        #expect(rows[0].group == "a,b" && rows[0].tputPerGPU == 100.5 && rows[0].medianInteractivity == 40)
        #expect(throws: BenchError.self) { try ReportInputs.csvRows("group,conc\nx,1\n") }
    }
}
