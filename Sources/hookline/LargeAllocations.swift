#if canImport(Glibc)
    import Glibc
#endif

/// How the long-running commands (`serve`, `work`) have glibc's allocator treat large blocks.
enum LargeAllocations {
    /// Blocks of 1 MiB or more (webhook bodies, batches of them, their statements) get pages of their own that
    /// go back to the system when freed (unless free space already held fits them). glibc's default raises that
    /// threshold to the largest block freed so far, after which such blocks come from per-thread arenas that
    /// keep their pages: 40 deliveries of 8 MB to a `serve` (with the pool's own fixes) left its resident size
    /// at 572 to 630 MiB afterwards, and 808 to 924 at the peak; with this, at 45 MiB (its size before them),
    /// and 377 to 410 at the peak. Setting the threshold turns the raising off.
    static func returnToTheSystemWhenFreed() {
        #if canImport(Glibc)
            // `mallopt` is declared in <malloc.h>, which the Glibc module does not bring in.
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            // A null handle is glibc's RTLD_DEFAULT: the program and the libraries it loaded.
            guard let symbol = dlsym(nil, "mallopt") else { return }
            let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
            let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
            _ = mallopt(mmapThreshold, 1 << 20)
        #endif
    }
}
