import Crypto
public import Foundation

/// Lower-case hexadecimal, as the protocol's signed texts and stored verifiers write digests.
public enum Hex {
  public static func encode(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    for byte in bytes {
      text.append(digits[Int(byte >> 4)])
      text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
  }

  /// The SHA-256 of `data`, in hexadecimal.
  public static func sha256(_ data: some DataProtocol) -> String {
    encode(SHA256.hash(data: data))
  }
}
