/// Base64url without padding (RFC 4648 §5), strict: only the alphabet, no padding, no white
/// space, a length a whole number of bytes produces, and no stray bits in the last character
/// (so every byte string has exactly one encoding).
public enum Base64URL {
  static let alphabet = Array(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

  static let values: [UInt8] = {
    var table = [UInt8](repeating: 0xFF, count: 256)
    for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
    return table
  }()

  public static func encode(_ bytes: some Collection<UInt8>) -> String {
    String(decoding: encodedBytes(bytes), as: UTF8.self)
  }

  /// The encoding as ASCII bytes.
  static func encodedBytes(_ bytes: some Collection<UInt8>) -> [UInt8] {
    let input = Array(bytes)
    var out = [UInt8]()
    out.reserveCapacity((input.count * 4 + 2) / 3)
    var index = 0
    while index + 3 <= input.count {
      let n = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
      out.append(alphabet[Int(n >> 18 & 63)])
      out.append(alphabet[Int(n >> 12 & 63)])
      out.append(alphabet[Int(n >> 6 & 63)])
      out.append(alphabet[Int(n & 63)])
      index += 3
    }
    let rest = input.count - index
    if rest == 1 {
      let n = UInt32(input[index]) << 16
      out.append(alphabet[Int(n >> 18 & 63)])
      out.append(alphabet[Int(n >> 12 & 63)])
    } else if rest == 2 {
      let n = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
      out.append(alphabet[Int(n >> 18 & 63)])
      out.append(alphabet[Int(n >> 12 & 63)])
      out.append(alphabet[Int(n >> 6 & 63)])
    }
    return out
  }

  public static func decode(_ text: some StringProtocol) -> [UInt8]? { decode(ascii: text.utf8) }

  /// Decodes base64url text given as its ASCII bytes.
  static func decode(ascii input: some Collection<UInt8>) -> [UInt8]? {
    guard input.count % 4 != 1 else { return nil }
    let table = values
    var accumulator: UInt32 = 0
    var bits = 0
    var valid = true
    let decoded = [UInt8](unsafeUninitializedCapacity: input.count * 3 / 4) { buffer, count in
      count = 0
      table.withUnsafeBufferPointer { table in
        for byte in input {
          let value = table[Int(byte)]
          guard value != 0xFF else {
            valid = false
            return
          }
          accumulator = accumulator << 6 | UInt32(value)
          bits += 6
          if bits >= 8 {
            bits -= 8
            buffer[count] = UInt8(truncatingIfNeeded: accumulator >> UInt32(bits))
            count += 1
          }
        }
      }
    }
    // Leftover bits must be zero: otherwise the encoding is not canonical.
    guard valid, accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
    return decoded
  }
}
