import RiptideKernels

/// body(i) for every row in 0..<rows, in chunks of `chunk` rows over the kernels' pool (inline when
/// one chunk holds them all). Rows must be independent, so each comes out the same however the rows
/// are split: a prefill's row-wise work otherwise runs on one core while the other waits.
func forEachRow(_ rows: Int, chunk: Int = 16, _ body: (Int) -> Void) {
    if rows <= chunk {
        for i in 0..<rows { body(i) }
        return
    }
    WorkerPool.shared.parallelFor((rows + chunk - 1) / chunk) { c, _ in
        for i in (c * chunk)..<min(rows, (c + 1) * chunk) { body(i) }
    }
}
