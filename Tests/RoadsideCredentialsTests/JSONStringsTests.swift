import Testing

@testable import RoadsideCredentials

@Suite struct JSONStringsTests {
  @Test(arguments: [
    (#"["a","nm","魏英"]"#, ["a", "nm", "魏英"]),
    (#"[ "a" , "b\"c\\d\/e" ]"#, ["a", "b\"c\\d/e"]),
    (#"["\u9b4f\u82f1","\ud83d\ude97","\n\t"]"#, ["魏英", "🚗", "\n\t"]),
  ])
  func reads(_ json: String, _ expected: [String]) {
    #expect(JSONStrings.parseArray(Array(json.utf8)) == expected)
  }

  @Test(arguments: [
    #"[]"#, #"["a",]"#, #"["a"] x"#, #"["a",1]"#, #"{"a":"b"}"#, #"["\x"]"#, #"["\ud83d"]"#,
    "[\"a\nb\"]", #"["a""#,
  ])
  func refuses(_ json: String) {
    #expect(JSONStrings.parseArray(Array(json.utf8)) == nil)
  }
}
