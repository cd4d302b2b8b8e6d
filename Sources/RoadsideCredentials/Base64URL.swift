import Foundation

/// Base64url without padding (RFC 4648 §5), strict: only the alphabet, no padding, no
/// white space, and a length that a whole number of bytes produces.
enum Base64URL {
  static func encode(_ bytes: some Collection<UInt8>) -> String {
    Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
      .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
  }

  static func decode(_ text: some StringProtocol) -> [UInt8]? {
    guard
      text.utf8.allSatisfy({ byte in
        (65...90).contains(byte) || (97...122).contains(byte) || (48...57).contains(byte)
          || byte == 45 || byte == 95
      }), text.utf8.count % 4 != 1
    else { return nil }
    var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(
      of: "_", with: "/")
    standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
    guard let data = Data(base64Encoded: standard) else { return nil }
    // Reject non-canonical encodings (stray low bits in the last character).
    guard encode(data) == text else { return nil }
    return [UInt8](data)
  }
}
