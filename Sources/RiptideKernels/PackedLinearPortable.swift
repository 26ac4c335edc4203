// The plain Swift twin of the C kernels: same packed layout, same numerics contract, scalar code.
// It is the `.portable` path and the tests' check that the packed layout reads back correctly.

extension PackedLinear {
    /// Element (row n, input k) of the packed weight, without its scale (exact).
    public func packedValue(_ n: Int, _ k: Int) -> Float {
        let p = n / 32, j = n % 32, kp = paddedCols
        switch format {
        case .fp8:
            let s = slotOf[2 * j + (k & 1)]
            return e4m3ToFloat(weights.load(fromByteOffset: (p * (kp / 2) + k / 2) * 64 + s, as: UInt8.self))
        case .fp4:   // byte 2·(j % 16) + parity; high nibble for rows 16..31
            let b = weights.load(fromByteOffset: (p * (kp / 2) + k / 2) * 32 + 2 * (j % 16) + (k & 1), as: UInt8.self)
            return e2m1ToFloat(j < 16 ? b & 0xF : b >> 4)
        case .bf16:
            let lane = (j / 16) * 32 + (j % 16) * 2 + (k & 1)
            return bf16ToFloat(weights.load(fromByteOffset: 2 * ((p * (kp / 2) + k / 2) * 64 + lane), as: UInt16.self))
        case .f32:
            return weights.load(fromByteOffset: 4 * ((p * kp + k) * 32 + j), as: Float.self)
        }
    }

    /// Scale of element (n, k): the 128×128 block scale (fp8), the per-32 group scale (fp4), else 1.
    public func packedScale(_ n: Int, _ k: Int) -> Float {
        let kp = paddedCols
        switch format {
        case .fp8: return scales!.load(fromByteOffset: 4 * ((n / 128) * (kp / 128) + k / 128), as: Float.self)
        case .fp4:
            let e = scales!.load(fromByteOffset: ((n / 32) * (kp / 32) + k / 32) * 32 + n % 32, as: UInt8.self)
            return e8m0ToFloat(e)
        case .bf16, .f32: return 1
        }
    }

    func portableApply(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>, round: Bool) {
        let quantized = format == .fp8 || format == .fp4
        let group = format == .fp8 ? 128 : format == .fp4 ? 32 : max(cols, 1)   // inputs per scale group
        var q = [Float](repeating: 0, count: cols)                 // [cols] the row as the product sees it
        var qs = [Float](repeating: 1, count: (cols + 127) / 128)  // [cols/128] activation scales
        for m in 0..<count {
            let row = UnsafeBufferPointer(start: x + m * cols, count: cols)
            if quantized {
                q.withUnsafeMutableBufferPointer { v in qs.withUnsafeMutableBufferPointer { s in
                    quantizeFP8(row, block: 128, values: v, scales: s)
                } }
            } else {
                for k in 0..<cols { q[k] = format == .bf16 ? roundBF16(row[k]) : row[k] }
            }
            for n in 0..<rows {
                var total: Float = 0
                var g0 = 0
                while g0 < cols {
                    var acc: Float = 0
                    for k in g0..<min(g0 + group, cols) { acc += q[k] * packedValue(n, k) }
                    total += quantized ? acc * (qs[g0 / 128] * packedScale(n, g0)) : acc
                    g0 += group
                }
                y[m * rows + n] = round ? roundBF16(total) : total
            }
        }
    }
}
