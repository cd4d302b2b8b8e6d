public import Foundation

/// Where each part keeps its files under a home directory: the one definition the CLI, the
/// scenario world, the simulation and the crash harness all use. Two homes never share a
/// file.
///
///     central/central.sqlite          the central store
///     bank/bank.sqlite                the simulated bank
///     bank/central.secret             the secret central signs its bank requests with
///     terminals/T-…/terminal.sqlite   each terminal's cache and outbox
///     terminals/T-…/central-ca.pem    the certificate a terminal trusts for https:// central
///     holders/<licence>.json          each holder's phone
public struct HomeLayout: Sendable, Hashable {
  public let home: URL

  public init(home: URL) { self.home = home }

  public var centralDirectory: URL { home.appendingPathComponent("central", isDirectory: true) }
  public var centralStore: URL { centralDirectory.appendingPathComponent("central.sqlite") }

  public var bankDirectory: URL { home.appendingPathComponent("bank", isDirectory: true) }
  /// The simulated bank's own file.
  public var bankStore: URL { bankDirectory.appendingPathComponent("bank.sqlite") }
  /// The secret `bank init` made for central to sign its requests to `bank serve` with
  /// (base64, 0600). Give it to central's home by copying it.
  public var bankSecret: URL { bankDirectory.appendingPathComponent("central.secret") }

  public func terminalDirectory(_ id: String) -> URL {
    home.appendingPathComponent("terminals", isDirectory: true)
      .appendingPathComponent(id, isDirectory: true)
  }
  public func terminalStore(_ id: String) -> URL {
    terminalDirectory(id).appendingPathComponent("terminal.sqlite")
  }
  /// The certificate the terminal trusts for an https:// central, kept from
  /// `terminal init --ca`.
  public func terminalCA(_ id: String) -> URL {
    terminalDirectory(id).appendingPathComponent("central-ca.pem")
  }

  /// The folder of the holders' phones.
  public var holdersDirectory: URL { home.appendingPathComponent("holders", isDirectory: true) }

  /// The phone of the holder of licence `number`: one file each, side by side in one
  /// folder, so that a world of a million holders is a million file creations, not also a
  /// million folders (which cost three times as much on ext4).
  public func phone(licence number: String) -> URL {
    holdersDirectory.appendingPathComponent("\(number).json")
  }

  /// Where a home made before the flat layout kept a phone (`holders/<licence>/phone.json`);
  /// read when the flat file is missing, and replaced by it at the next save.
  public func legacyPhone(licence number: String) -> URL {
    holdersDirectory.appendingPathComponent(number, isDirectory: true)
      .appendingPathComponent("phone.json")
  }
}

/// Scratch folders for files that need not survive the machine.
public enum ScratchFolder {
  /// `/dev/shm` when it is a writable folder with at least 1 GiB free, else the temporary
  /// folder: memory for the files of a simulation's worlds or a benchmark's fleet, whose
  /// durability is not what is being checked. (A container's `/dev/shm` is often 64 MiB.)
  public static var memory: URL {
    let shm = "/dev/shm"
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: shm, isDirectory: &isDirectory),
      isDirectory.boolValue, FileManager.default.isWritableFile(atPath: shm),
      let free = try? FileManager.default.attributesOfFileSystem(forPath: shm)[.systemFreeSize]
        as? NSNumber, free.int64Value >= 1 << 30
    {
      return URL(fileURLWithPath: shm, isDirectory: true)
    }
    return FileManager.default.temporaryDirectory
  }
}
