import Foundation
import RoadsideDomain
import RoadsideFixtures
import RoadsideProtocol
import Testing

@testable import RoadsideTerminal

let defaultSet: FixtureSet = try! FixtureLoader().load(directory: DefaultFixtures.directory)

@Suite struct LicencePayloadReaderTests {
  @Test func readsEveryDefaultLicenceExactlyAsTheDecoderDoes() throws {
    for licence in defaultSet.licences {
      let payload = try CanonicalJSON.string(licence)
      let fast = try #require(LicencePayloadReader.read(payload), "\(licence.number)")
      #expect(fast == LicenceRow(try JSONDecoder().decode(Licence.self, from: Data(payload.utf8))))
    }
  }

  @Test(arguments: [
    ("\"status\":\"A\"", "\"status\":\"Q\""),  // unknown status
    ("\"epoch\":", "\"epoch\":\"x\",\"old\":"),  // wrong type
    ("\"classes\":[\"C2\"]", "\"classes\":[\"C9\"]"),  // unknown class
    ("\"name\":\"魏英\"", "\"name\":\"魏\\u82f1\""),  // an escape it leaves to the decoder
    ("\"birthDate\":\"1978-11-27\"", "\"birthDate\":\"1978-11-28\""),  // disagrees with the ID
  ])
  func handsAnythingUnexpectedToTheDecoder(_ find: String, _ replace: String) throws {
    let licence = try #require(defaultSet.licences.first)
    let payload = try CanonicalJSON.string(licence)
    #expect(payload.contains(find))
    #expect(LicencePayloadReader.read(payload.replacingOccurrences(of: find, with: replace)) == nil)
  }

  @Test func rejectsTruncatedAndTrailingText() throws {
    let payload = try CanonicalJSON.string(try #require(defaultSet.licences.first))
    #expect(LicencePayloadReader.read(String(payload.dropLast())) == nil)
    #expect(LicencePayloadReader.read(payload + "x") == nil)
    #expect(LicencePayloadReader.read("") == nil)
  }
}
