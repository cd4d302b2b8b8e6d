import RoadsideFuzzing

// libFuzzer's entry point for the e-licence code parser (README: Development). Built only
// with ROADSIDE_FUZZ=1 and `swift build --sanitize=fuzzer`; the property lives in
// `CodeFuzzing.check`, whose seed corpus the ordinary test suite replays.

let world = CodeFuzzing()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
  guard let start else {
    world.check([])
    return 0
  }
  world.check([UInt8](UnsafeRawBufferPointer(start: start, count: count)))
  return 0
}
