import CRiptideKernels

// Repacking checkpoint tensors into the panel layout. Slot s (0..<64) of an input pair holds
// row 32p + slotRow[s] and input 2kp + slotParity[s]: the order in which the AVX-512 decoder's
// byte unpack (vpunpck{l,h}bw) yields bf16 pairs for rows 0..15 and 16..31.

let slotRow: [Int] = (0..<64).map { Int(rk_slot_row(Int32($0))) }
let slotParity: [Int] = (0..<64).map { Int(rk_slot_parity(Int32($0))) }
/// Inverse: slotOf[2·row + parity].
let slotOf: [Int] = {
    var inv = [Int](repeating: 0, count: 64)
    for s in 0..<64 { inv[2 * slotRow[s] + slotParity[s]] = s }
    return inv
}()

extension PackedLinear {
    /// FP8 e4m3 weight [rows, cols] (row-major codes) with E8M0 block scales
    /// [ceil(rows/128), ceil(cols/128)]. Throws on a NaN scale byte (0xFF).
    public convenience init(fp8Codes codes: UnsafeRawBufferPointer, scaleBytes: [UInt8],
                            rows: Int, cols: Int) throws {
        let rb = (rows + 127) / 128, cb = (cols + 127) / 128
        guard codes.count >= rows * cols, scaleBytes.count >= rb * cb else {
            throw PackError.shape("fp8 weight needs \(rows * cols) codes and \(rb * cb) scales")
        }
        if let bad = scaleBytes.prefix(rb * cb).firstIndex(of: 0xFF) { throw PackError.nanScale(index: bad) }  // NaN
        self.init(format: .fp8, rows: rows, cols: cols, scaleBytes: rb * ((cols + 127) / 128) * 4)
        let kp = paddedCols
        let sp = scales!.bindMemory(to: Float.self, capacity: rb * (kp / 128))   // [rb][kp/128]
        for r in 0..<rb { for c in 0..<(kp / 128) { sp[r * (kp / 128) + c] = e8m0ToFloat(scaleBytes[r * cb + c]) } }
        let dst = weights.assumingMemoryBound(to: UInt8.self)
        let src = codes.bindMemory(to: UInt8.self).baseAddress!
        WorkerPool.shared.parallelFor(panels) { p, _ in   // panels are independent
            let panelBase = p * (kp / 2) * 64
            for s in 0..<64 {
                let row = 32 * p + slotRow[s]
                if row >= rows { continue }
                let rowBase = src + row * cols
                var k = slotParity[s], o = panelBase + s
                while k < cols { dst[o] = rowBase[k]; k += 2; o += 64 }
            }
        }
    }

    /// FP8 weight with scales already decoded to Float (as `WeightMatrix.Storage.fp8` keeps them).
    /// Every scale must be a power of two 2^(e−127) with e in 0...254.
    public convenience init(fp8Codes codes: UnsafeRawBufferPointer, scales: [Float], rows: Int, cols: Int) throws {
        try self.init(fp8Codes: codes, scaleBytes: try e8m0Bytes(scales), rows: rows, cols: cols)
    }

    /// FP4 e2m1 weight stored as [rows, cols/2] bytes (low nibble = even input) with E8M0 scales
    /// [rows, cols/32]. `cols` must be a multiple of 32. Throws on a NaN scale byte.
    public convenience init(fp4Codes codes: UnsafeRawBufferPointer, scaleBytes: [UInt8],
                            rows: Int, cols: Int) throws {
        guard cols % 32 == 0 else { throw PackError.shape("fp4 cols \(cols) is not a multiple of 32") }
        let groups = cols / 32
        guard codes.count >= rows * cols / 2, scaleBytes.count >= rows * groups else {
            throw PackError.shape("fp4 weight needs \(rows * cols / 2) bytes and \(rows * groups) scales")
        }
        if let bad = scaleBytes.prefix(rows * groups).firstIndex(of: 0xFF) { throw PackError.nanScale(index: bad) }
        let kp = (cols + 127) / 128 * 128, pr = (rows + 31) / 32 * 32
        self.init(format: .fp4, rows: rows, cols: cols, scaleBytes: (pr / 32) * (kp / 32) * 32)
        let sd = scales!.assumingMemoryBound(to: UInt8.self)                       // [panels][kp/32][32]
        sd.initialize(repeating: 127, count: self.scaleBytes)                    // padding: scale 1
        for p in 0..<panels {
            for j in 0..<32 where 32 * p + j < rows {
                for g in 0..<groups { sd[(p * (kp / 32) + g) * 32 + j] = scaleBytes[(32 * p + j) * groups + g] }
            }
        }
        let panelScales = (kp / 32) * 32
        fp4BlockPanels = .allocate(capacity: panels)
        for p in 0..<panels {
            fp4BlockPanels![p] = UnsafeBufferPointer(start: sd + p * panelScales, count: panelScales).allSatisfy { (87...167).contains($0) } ? 1 : 0
        }
        let dst = weights.assumingMemoryBound(to: UInt8.self)
        let src = codes.bindMemory(to: UInt8.self).baseAddress!
        let zeroRow = [UInt8](repeating: 0, count: cols / 2)   // rows past the end of the last panel
        zeroRow.withUnsafeBufferPointer { zero in
            WorkerPool.shared.parallelFor(panels) { p, _ in
                // Step byte 2i holds input 2k of rows i (low nibble) and 16 + i (high); byte 2i + 1 input 2k + 1.
                let panel = dst + p * (kp / 2) * 32
                for i in 0..<16 {
                    let ra = 32 * p + i, rb = ra + 16
                    let a = ra < rows ? src + ra * (cols / 2) : zero.baseAddress!
                    let b = rb < rows ? src + rb * (cols / 2) : zero.baseAddress!
                    for k in 0..<(cols / 2) {
                        let x = a[k], y = b[k]
                        panel[k * 32 + 2 * i] = (x & 0xF) | (y << 4)
                        panel[k * 32 + 2 * i + 1] = (x >> 4) | (y & 0xF0)
                    }
                }
            }
        }
    }

    /// FP4 weight with scales already decoded to Float (as `WeightMatrix.Storage.fp4` keeps them).
    public convenience init(fp4Codes codes: UnsafeRawBufferPointer, scales: [Float], rows: Int, cols: Int) throws {
        try self.init(fp4Codes: codes, scaleBytes: try e8m0Bytes(scales), rows: rows, cols: cols)
    }

    /// bf16 weight [rows, cols] as raw bits.
    public convenience init(bf16Bits bits: UnsafeRawBufferPointer, rows: Int, cols: Int) throws {
        guard bits.count >= 2 * rows * cols else { throw PackError.shape("bf16 weight needs \(2 * rows * cols) bytes") }
        self.init(format: .bf16, rows: rows, cols: cols, scaleBytes: 0)
        let kp = paddedCols
        let dst = weights.assumingMemoryBound(to: UInt16.self)   // [panels][kp/2][2][16][2]
        let src = bits.bindMemory(to: UInt16.self).baseAddress!
        WorkerPool.shared.parallelFor(panels) { p, _ in
            for r in (32 * p)..<min(32 * p + 32, rows) {
                let j = r % 32, lane = (j / 16) * 32 + (j % 16) * 2
                for k in 0..<cols { dst[(p * (kp / 2) + k / 2) * 64 + lane + (k & 1)] = src[r * cols + k] }
            }
        }
    }

    /// fp32 weight [rows, cols].
    public convenience init(f32 values: UnsafeBufferPointer<Float>, rows: Int, cols: Int) throws {
        guard values.count >= rows * cols else { throw PackError.shape("f32 weight needs \(rows * cols) values") }
        self.init(format: .f32, rows: rows, cols: cols, scaleBytes: 0)
        let kp = paddedCols
        let dst = weights.assumingMemoryBound(to: Float.self)    // [panels][kp][32]
        WorkerPool.shared.parallelFor(panels) { p, _ in
            for r in (32 * p)..<min(32 * p + 32, rows) {
                for k in 0..<cols { dst[(p * kp + k) * 32 + r % 32] = values[r * cols + k] }
            }
        }
    }

    /// Bytes of the tensors as stored in the checkpoint (weights + scales), for overhead reports.
    public var checkpointBytes: Int {
        switch format {
        case .fp8: return rows * cols + ((rows + 127) / 128) * ((cols + 127) / 128)
        case .fp4: return rows * cols / 2 + rows * cols / 32
        case .bf16: return 2 * rows * cols
        case .f32: return 4 * rows * cols
        }
    }
}

/// Power-of-two Floats → E8M0 bytes; throws on anything else (NaN included).
func e8m0Bytes(_ scales: [Float]) throws -> [UInt8] {
    try scales.enumerated().map { i, s in
        if s == 0x1p-127 { return 0 }
        guard s.isNormal, s > 0, s.significandBitPattern == 0, s.exponent >= -126, s.exponent <= 127 else {
            throw PackError.nanScale(index: i)
        }
        return UInt8(Int(s.exponent) + 127)
    }
}
