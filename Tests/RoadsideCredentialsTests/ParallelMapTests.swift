import RoadsideCredentials
import Testing

@Suite struct ParallelMapTests {
  struct Failure: Error, Equatable { let item: Int }

  @Test(arguments: [0, 1, ParallelMap.sequentialBelow - 1, ParallelMap.sequentialBelow, 10_007])
  func keepsTheOrderOfItsInput(count: Int) throws {
    let items = Array(0..<count)
    #expect(try ParallelMap.map(items) { $0 * 3 + 1 } == items.map { $0 * 3 + 1 })
  }

  @Test func rethrowsTheFirstFailureInInputOrder() {
    #expect(throws: Failure(item: 1_000)) {
      try ParallelMap.map(Array(0..<5_000)) { item -> Int in
        if item == 1_000 || item == 4_000 { throw Failure(item: item) }
        return item
      }
    }
  }

  @Test func makesOneContextPerThreadAndPassesItToEachItem() throws {
    let items = Array(0..<1_000)
    let mapped = try ParallelMap.map(items, prepare: { 7 }) { context, item in context + item }
    #expect(mapped == items.map { $0 + 7 })
  }
}
