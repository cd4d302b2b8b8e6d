public import Foundation
import RoadsideCredentials
public import RoadsideDomain

/// Makes synthetic populations: deterministic for a seed and a reference date, with valid
/// ID checksums and a realistic mix of classes, statuses, points, vehicles, officers,
/// terminals and bank mandates. Every person, plate and account is invented.
///
/// Records are written as JSON Lines straight to the files, without building the whole
/// population in memory, so that a million licences take seconds.
public struct FixtureGenerator: Sendable {
  public let licenceCount: Int
  public let seed: UInt64
  /// The "today" of the population: validity periods, cycles and decisions are placed
  /// around it.
  public let referenceDate: LocalDate

  /// Terminals of the fleet: by default one per 5,000 licences, at least 6.
  public let terminalCount: Int
  /// Officers: by default one per 1,000 licences, at least 12 and at least two for every
  /// terminal. Officer i and terminal i are of the same unit, so terminal i's officer is
  /// officer i (police number 010001 + i).
  public var officerCount: Int { max(12, licenceCount / 1000, 2 * terminalCount) }

  public init(
    licenceCount: Int, seed: UInt64, referenceDate: LocalDate, terminalCount: Int? = nil
  ) {
    self.licenceCount = licenceCount
    self.seed = seed
    self.referenceDate = referenceDate
    self.terminalCount = min(
      FixtureGenerator.maximumTerminals, terminalCount ?? max(6, licenceCount / 5000))
  }

  /// The most terminals a generated fleet may have: their numbers run T-BJ-0001…T-BJ-9999.
  public static let maximumTerminals = 9_999

  /// The number of terminal `index` (from 0) of a generated fleet: T-BJ-0001 on.
  public static func terminalID(_ index: Int) -> String { "T-BJ-\(pad(index + 1, 4))" }
  /// The police number of officer `index` (from 0): 010001 on. Officer i is of terminal i's
  /// unit.
  public static func officerID(_ index: Int) -> String { pad(10_001 + index, 6) }

  /// How many records of each kind were written.
  public struct Summary: Sendable, Equatable {
    public var licences = 0
    public var vehicles = 0
    public var officers = 0
    public var terminals = 0
    public var mandates = 0
    public var decisions = 0
  }

  /// Writes the six files into `directory` (created if needed, files replaced).
  public func write(to directory: URL) throws -> Summary {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let licences = try JSONLinesWriter(directory.appendingPathComponent("licences.jsonl"))
    let vehicles = try JSONLinesWriter(directory.appendingPathComponent("vehicles.jsonl"))
    let mandates = try JSONLinesWriter(directory.appendingPathComponent("mandates.jsonl"))
    let decisions = try JSONLinesWriter(directory.appendingPathComponent("decisions.jsonl"))
    var summary = Summary()
    var random = SeededRandom(seed: seed)
    var state = State()

    for index in 0..<licenceCount {
      let person = makeLicence(index: index, random: &random, state: &state)
      try licences.append(json(person.licence))
      summary.licences += 1
      var plates: [Plate] = []
      for vehicle in makeVehicles(for: person.licence, random: &random, state: &state) {
        try vehicles.append(json(vehicle))
        plates.append(vehicle.plate)
        summary.vehicles += 1
      }
      if let mandate = makeMandate(for: person.licence, random: &random) {
        try mandates.append(json(mandate))
        summary.mandates += 1
      }
      for decision in makeDecisions(
        for: person.licence, plates: plates, pointsWanted: person.pointsWanted, random: &random,
        state: &state)
      {
        try decisions.append(json(decision))
        summary.decisions += 1
      }
    }
    try licences.close()
    try vehicles.close()
    try mandates.close()
    try decisions.close()

    let officers = try JSONLinesWriter(directory.appendingPathComponent("officers.jsonl"))
    for index in 0..<officerCount {
      // A generated officer's initial PIN is their police number (documented in
      // Fixtures/README.md), hashed with a salt from the seeded generator.
      let id = FixtureGenerator.officerID(index)
      let salt = (0..<16).map { _ in UInt8(truncatingIfNeeded: random.next()) }
      let officer = OfficerRecord(
        id: id, name: makeName(random: &random, gender: nil),
        unit: FixtureGenerator.units[index % FixtureGenerator.units.count],
        pinHash: try PINHash(pin: id, salt: salt, iterations: PINHash.fixtureIterations))
      try officers.append(json(officer))
      summary.officers += 1
    }
    try officers.close()

    let terminals = try JSONLinesWriter(directory.appendingPathComponent("terminals.jsonl"))
    for index in 0..<terminalCount {
      let terminal = TerminalRecord(
        id: FixtureGenerator.terminalID(index),
        unit: FixtureGenerator.units[index % FixtureGenerator.units.count])
      try terminals.append(json(terminal))
      summary.terminals += 1
    }
    try terminals.close()

    // The holiday calendar is data, not generated: the shipped one is copied.
    let calendar = directory.appendingPathComponent("calendar.jsonl")
    if calendar.standardizedFileURL
      != DefaultFixtures.directory.appendingPathComponent("calendar.jsonl")
      .standardizedFileURL
    {
      try? FileManager.default.removeItem(at: calendar)
      try FileManager.default.copyItem(
        at: DefaultFixtures.directory.appendingPathComponent("calendar.jsonl"), to: calendar)
    }
    return summary
  }

  /// The licences alone, in memory (for benchmarks and tests): the same values `write`
  /// puts in licences.jsonl for the same count, seed and date.
  public func generateLicences() -> [Licence] {
    var random = SeededRandom(seed: seed)
    var state = State()
    var result: [Licence] = []
    result.reserveCapacity(licenceCount)
    for index in 0..<licenceCount {
      let person = makeLicence(index: index, random: &random, state: &state)
      result.append(person.licence)
      // Draw what `write` draws for the same person, so the sequence stays in step.
      let plates = makeVehicles(for: person.licence, random: &random, state: &state).map(\.plate)
      _ = makeMandate(for: person.licence, random: &random)
      _ = makeDecisions(
        for: person.licence, plates: plates, pointsWanted: person.pointsWanted, random: &random,
        state: &state)
    }
    return result
  }

  // MARK: - People and licences

  struct State {
    var ids: Set<String> = []
    var plateCounters: [Character: Int] = [:]
    var newEnergyCounters: [Character: Int] = [:]
    var decisionSerial = 0
  }

  struct Person {
    let licence: Licence
    /// Points the person's decisions in the current cycle should add up to.
    let pointsWanted: Int
  }

  struct Region {
    let code: Int
    let province: Character
    let city: String
    let districts: [String]
    let authority: IssuingAuthority
  }

  static let regions: [Region] = [
    Region(code: 110101, province: "京", city: "北京市", districts: ["东城区"], authority: .beijing),
    Region(code: 110102, province: "京", city: "北京市", districts: ["西城区"], authority: .beijing),
    Region(code: 110105, province: "京", city: "北京市", districts: ["朝阳区"], authority: .beijing),
    Region(code: 110106, province: "京", city: "北京市", districts: ["丰台区"], authority: .beijing),
    Region(code: 110108, province: "京", city: "北京市", districts: ["海淀区"], authority: .beijing),
    Region(code: 110114, province: "京", city: "北京市", districts: ["昌平区"], authority: .beijing),
    Region(code: 110115, province: "京", city: "北京市", districts: ["大兴区"], authority: .beijing),
    Region(code: 110112, province: "京", city: "北京市", districts: ["通州区"], authority: .beijing),
    Region(
      code: 130102, province: "冀", city: "河北省石家庄市", districts: ["长安区"],
      authority: IssuingAuthority(name: "河北省石家庄市公安局交通警察支队", code: "冀A")),
    Region(
      code: 310101, province: "沪", city: "上海市", districts: ["黄浦区"],
      authority: IssuingAuthority(name: "上海市公安局交通警察总队", code: "沪A")),
    Region(
      code: 370102, province: "鲁", city: "山东省济南市", districts: ["历下区"],
      authority: IssuingAuthority(name: "山东省济南市公安局交通警察支队", code: "鲁A")),
    Region(
      code: 410105, province: "豫", city: "河南省郑州市", districts: ["金水区"],
      authority: IssuingAuthority(name: "河南省郑州市公安局交通警察支队", code: "豫A")),
    Region(
      code: 440106, province: "粤", city: "广东省广州市", districts: ["天河区"],
      authority: IssuingAuthority(name: "广东省广州市公安局交通警察支队", code: "粤A")),
    Region(
      code: 510104, province: "川", city: "四川省成都市", districts: ["锦江区"],
      authority: IssuingAuthority(name: "四川省成都市公安局交通管理局", code: "川A")),
  ]

  static let surnames = Array(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
  )
  static let maleGiven = Array("伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林洋志峰晨毅博文")
  static let femaleGiven = Array("芳娜敏静丽艳娟霞秀玲桂英慧莹雪琳晶颖倩婷琪璐洁蕾欣怡佳悦雯薇萍红梅燕丹")
  static let streets = [
    "建国路", "长安街", "复兴路", "学院路", "中关村大街", "望京街", "朝阳北路", "广渠路", "西直门外大街",
    "丰台路", "南三环西路", "北四环中路", "东三环北路", "光华路", "阜成路", "安立路",
  ]
  static let roads = [
    "东三环北路国贸桥", "长安街建国门", "北四环中路健翔桥", "京藏高速清河收费站", "西二环复兴门", "南三环木樨园桥",
    "京通快速路四惠桥", "中关村大街海淀黄庄", "机场高速望京段", "广渠路双井",
  ]
  static let units = [
    "北京市公安局公安交通管理局东城交通支队", "北京市公安局公安交通管理局西城交通支队",
    "北京市公安局公安交通管理局朝阳交通支队", "北京市公安局公安交通管理局海淀交通支队",
    "北京市公安局公安交通管理局丰台交通支队", "北京市公安局公安交通管理局高速公路交通支队",
  ]
  static let banks = ["中国工商银行", "中国建设银行", "中国银行", "中国农业银行", "交通银行", "招商银行"]

  /// Licence class combinations and their weights (per thousand).
  static let classMix: [([LicenceClass], Int)] = [
    ([.c1], 560), ([.c2], 160), ([.c1, .e], 60), ([.c1, .d], 15), ([.a1], 25), ([.a2], 30),
    ([.a3], 10), ([.b1], 20), ([.b2], 45), ([.e], 30), ([.d], 10), ([.a2, .d], 5), ([.c3], 10),
    ([.c5], 5), ([.c1, .c6], 5), ([.f], 5), ([.m], 5),
  ]

  /// Status mixes and their weights (per thousand). `B` comes with 12 points or more.
  static let statusMix: [(Set<StatusCode>, Int)] = [
    ([.normal], 850), ([.suspended], 25), ([.pointsFull, .withheld], 20),
    ([.violationUnprocessed], 20), ([.overdueRenewal], 20), ([.overdueMedical], 10),
    ([.revoked], 10), ([.deregistered], 8), ([.withheld], 10),
    ([.suspended, .violationUnprocessed], 10),
    ([.medicalDeferred], 7), ([.renewalDeferred], 5), ([.accidentUnprocessed], 5),
  ]

  func weighted<T>(_ table: [(T, Int)], random: inout SeededRandom) -> T {
    let total = table.reduce(0) { $0 + $1.1 }
    var pick = random.int(in: 0..<total)
    for (value, weight) in table {
      if pick < weight { return value }
      pick -= weight
    }
    return table[0].0
  }

  func makeName(random: inout SeededRandom, gender: Gender?) -> String {
    let surname = random.element(of: FixtureGenerator.surnames)
    let pool =
      (gender ?? (random.chance(percent: 50) ? .male : .female)) == .male
      ? FixtureGenerator.maleGiven : FixtureGenerator.femaleGiven
    let first = random.element(of: pool)
    if random.chance(percent: 35) { return "\(surname)\(first)" }
    return "\(surname)\(first)\(random.element(of: pool))"
  }

  func randomDate(from start: LocalDate, to end: LocalDate, random: inout SeededRandom) -> LocalDate
  {
    let span = max(0, start.days(until: end))
    return start.adding(days: random.int(in: 0...span))
  }

  func makeLicence(index: Int, random: inout SeededRandom, state: inout State) -> Person {
    let ref = referenceDate
    let region =
      random.chance(percent: 82)
      ? FixtureGenerator.regions[random.int(in: 0..<8)]
      : FixtureGenerator.regions[random.int(in: 8..<FixtureGenerator.regions.count)]
    // Classes first, then a birth date and a first issue the law allows for them on the
    // reference date (公安部令第162号 §14 ages, §16/§17 waits for added classes, §65 limits).
    let statusCodes = weighted(FixtureGenerator.statusMix, random: &random)
    let classes = weighted(FixtureGenerator.classMix, random: &random)
    let inForce = !LicenceStatus(codes: statusCodes).isTerminal
    let youngest = max(19, classes.map(\.minimumAge).max() ?? 18)
    let oldest = min(70, inForce ? classes.compactMap(\.maximumAge).min() ?? 70 : 70)
    let birth = randomDate(
      from: ref.adding(years: -oldest).adding(days: 1), to: ref.adding(years: -youngest),
      random: &random)
    var id: CitizenID
    repeat {
      id = CitizenID.make(region: region.code, birthDate: birth, sequence: random.int(in: 0...999))
    } while !state.ids.insert(id.value).inserted
    let gender = id.gender
    let wait = classes.map(\.yearsHeldBeforeAdding).max() ?? 0
    var latestFirstIssue = ref.adding(days: -30).adding(years: -wait)
    if classes.contains(where: { $0.applicationAgeLimit != nil }) {
      latestFirstIssue = min(latestFirstIssue, birth.adding(years: 61).adding(days: -1))
    }
    var firstIssued = randomDate(
      from: birth.adding(years: 18), to: latestFirstIssue, random: &random)
    var validity: Validity
    var renewals = 0
    if statusCodes.contains(.overdueRenewal) {
      // The current term ended 1 to 300 days ago and was not renewed.
      let start = ref.adding(days: -random.int(in: 1...300)).adding(years: -6)
      if firstIssued > start { firstIssued = max(start, birth.adding(years: 18)) }
      validity = Validity(term: .sixYears, from: max(start, firstIssued))
      if !validity.isExpired(on: ref) {
        validity = Validity(term: .sixYears, from: firstIssued)
      }
    } else {
      // 6 years, then 10 years, then long-term (公安部令第162号 §62), renewed on time.
      validity = Validity(term: .sixYears, from: firstIssued)
      while let until = validity.validUntil, until < ref {
        validity = Validity(term: validity.term.next(fullScoreInTerm: false), from: until)
        renewals += 1
      }
    }
    let classChanged = random.chance(percent: 8)
    var status = LicenceStatus(codes: statusCodes)
    if status.contains(.overdueRenewal), !validity.isExpired(on: ref) {
      status = .normal
    }
    let district = random.element(of: region.districts)
    let address =
      "\(region.city)\(district)\(random.element(of: FixtureGenerator.streets))\(random.int(in: 1...300))号"
      + (random.chance(percent: 60)
        ? "\(random.int(in: 1...30))号楼\(random.int(in: 1...6))单元\(random.int(in: 101...2808))" : "")
    let licence = Licence(
      number: id,
      fileNumber: try! FileNumber(pad(region.code / 10_000, 2) + "00" + pad(index + 1, 8)),
      name: makeName(random: &random, gender: gender), gender: gender, birthDate: birth,
      address: address,
      photo: random.chance(percent: 97) ? "photos/\(id.value).jpg" : nil,
      firstIssued: firstIssued, classes: classes, validity: validity, authority: region.authority,
      status: status, epoch: 1 + renewals + (classChanged ? 1 : 0),
      suspendedUntil: status.contains(.suspended) ? ref.adding(days: random.int(in: 20...170)) : nil
    )

    var pointsWanted = 0
    if status.contains(.pointsFull) {
      pointsWanted = random.chance(percent: 70) ? 12 : random.element(of: [13, 14, 15, 18])
    } else if status.codes == [.normal] || status.contains(.violationUnprocessed) {
      if random.chance(percent: 35) {
        pointsWanted = random.element(of: [1, 1, 2, 3, 3, 4, 6, 6, 7, 9, 10, 11])
      }
    }
    return Person(licence: licence, pointsWanted: pointsWanted)
  }

  // MARK: - Vehicles

  static let models: [LicenceClass: [String]] = [
    .c1: ["大众朗逸", "丰田卡罗拉", "本田思域", "日产轩逸", "别克英朗", "哈弗H6", "吉利帝豪"],
    .c2: ["大众速腾 自动挡", "丰田凯美瑞", "比亚迪汉", "特斯拉Model 3", "理想L7", "蔚来ES6"],
    .a1: ["宇通ZK6122 大型客车", "金龙XMQ6127 大型客车"],
    .a2: ["解放J6P 牵引车", "东风天龙 牵引车"],
    .a3: ["北京公交 BJ6123 城市公交车"],
    .b1: ["金杯 中型客车", "考斯特 中型客车"],
    .b2: ["解放J6L 载货汽车", "东风多利卡 载货汽车"],
    .c3: ["五征 低速载货汽车"],
    .c5: ["残疾人专用 自动挡小型汽车"],
    .c6: ["轻型牵引挂车 房车"],
    .d: ["宗申 三轮摩托车"],
    .e: ["本田CB190R 二轮摩托车", "雅马哈YBR125 二轮摩托车"],
    .f: ["轻便摩托车 50cc"],
    .m: ["徐工 轮式装载机"],
  ]

  /// Issuing-authority letters used in generated plates (no I or O).
  static let plateLetters = Array("ABCDEFGHJKLMNPQ")

  func makeVehicles(for licence: Licence, random: inout SeededRandom, state: inout State)
    -> [VehicleRecord]
  {
    let count = weighted([(0, 12), (1, 75), (2, 13)], random: &random)
    guard count > 0 else { return [] }
    var result: [VehicleRecord] = []
    let province =
      FixtureGenerator.regions.first { $0.authority == licence.authority }?.province
      ?? "京"
    for _ in 0..<count {
      var vehicleClass = random.element(of: licence.classes)
      if vehicleClass == .c1, random.chance(percent: 40) { vehicleClass = .c2 }
      // A few vehicles need a class the owner does not hold (someone else drives them,
      // or the owner should not): the class-mismatch checks need them.
      if random.chance(percent: 3) {
        vehicleClass = random.element(of: [.c1, .b2, .a1, .e])
      }
      let isCar = vehicleClass == .c1 || vehicleClass == .c2
      let plate: Plate
      if isCar, random.chance(percent: 25) {
        let n = state.newEnergyCounters[province, default: 0]
        state.newEnergyCounters[province] = n + 1
        let kind: Character = (n / 150_000) % 2 == 0 ? "D" : "F"
        plate = try! Plate(
          "\(province)\(FixtureGenerator.plateLetters[(n / 10_000) % 15])\(kind)\((n / 300_000) % 10)\(pad(n % 10_000, 4))"
        )
      } else {
        let n = state.plateCounters[province, default: 0]
        state.plateCounters[province] = n + 1
        plate = try! Plate(
          "\(province)\(FixtureGenerator.plateLetters[(n / 100_000) % 15])\(pad(n % 100_000, 5))")
      }
      let model = random.element(of: FixtureGenerator.models[vehicleClass] ?? ["通用车辆"])
      result.append(
        VehicleRecord(
          plate: plate, vehicleClass: vehicleClass, owner: licence.number, model: model,
          registered: randomDate(from: licence.firstIssued, to: referenceDate, random: &random)))
    }
    return result
  }

  // MARK: - Mandates and decisions

  func makeMandate(for licence: Licence, random: inout SeededRandom) -> MandateRecord? {
    guard !licence.status.isTerminal, random.chance(percent: 40) else { return nil }
    var body = "6222"
    for _ in 0..<14 { body += String(random.int(in: 0...9)) }
    let authorised = randomDate(
      from: max(licence.firstIssued, referenceDate.adding(years: -5)),
      to: referenceDate.adding(days: -1), random: &random)
    return MandateRecord(
      licence: licence.number, bank: random.element(of: FixtureGenerator.banks),
      account: MandateRecord.withLuhnDigit(body), authorisedOn: authorised,
      revokedOn: random.chance(percent: 5)
        ? referenceDate.adding(days: -random.int(in: 0...30))
          .clamped(from: authorised) : nil)
  }

  /// Offences a random decision may be for: none that suspends or revokes the licence or
  /// withholds it at the roadside (a generated licence's status does not follow from its
  /// decisions, so such a decision would leave, say, a hit-and-run on a licence still A).
  static let drawable = OffenceCatalogue.current.offences.filter {
    $0.measure == .none && $0.roadsideWithholding == nil
  }
  static let offencesByPoints = Dictionary(grouping: drawable, by: \.points)
  static let minorOffences = drawable.filter { (1...6).contains($0.points) }
  /// 0-point offences a warning may replace the fine of (道路交通安全法 §90).
  static let warnable = drawable.filter { $0.points == 0 && $0.fine.warningAllowed }

  func makeDecisions(
    for licence: Licence, plates: [Plate], pointsWanted: Int, random: inout SeededRandom,
    state: inout State
  ) -> [DecisionRecord] {
    let byPoints = FixtureGenerator.offencesByPoints
    var result: [DecisionRecord] = []
    let cycle = licence.scoringCycle(on: referenceDate)
    var remaining = pointsWanted
    while remaining > 0 {
      let value = [12, 9, 6, 3, 1].first { $0 <= remaining }!
      let offence = random.element(of: byPoints[value]!)
      remaining -= value
      result.append(
        decision(
          licence: licence, plates: plates, offence: offence,
          on: randomDate(from: cycle.start, to: referenceDate, random: &random),
          paid: random.chance(percent: 80), random: &random, state: &state))
    }
    // Some history from the previous cycle, paid and cleared.
    if random.chance(percent: 20), cycle.start > licence.firstIssued {
      let previous = licence.scoringCycle(on: cycle.start.adding(days: -1))
      let offence = random.element(of: FixtureGenerator.minorOffences)
      result.append(
        decision(
          licence: licence, plates: plates, offence: offence,
          on: randomDate(from: previous.start, to: previous.lastDay, random: &random), paid: true,
          random: &random, state: &state))
    }
    // A warning now and then (no points).
    if random.chance(percent: 5) {
      let offence = random.element(of: FixtureGenerator.warnable)
      result.append(
        decision(
          licence: licence, plates: plates, offence: offence,
          on: randomDate(from: cycle.start, to: referenceDate, random: &random), paid: true,
          random: &random, state: &state, warning: true))
    }
    return result.sorted { $0.decidedOn < $1.decidedOn }
  }

  func decision(
    licence: Licence, plates: [Plate], offence: Offence, on date: LocalDate, paid: Bool,
    random: inout SeededRandom, state: inout State, warning: Bool = false
  ) -> DecisionRecord {
    state.decisionSerial += 1
    return DecisionRecord(
      number: "110000\(pad(date.year, 4))\(pad(state.decisionSerial, 8))", licence: licence.number,
      plate: plates.isEmpty ? nil : random.element(of: plates), offence: offence.code,
      decidedOn: date, fineYuan: warning ? 0 : offence.fine.defaultYuan, paid: paid,
      place: "北京市\(random.element(of: FixtureGenerator.roads))")
  }

  // MARK: - JSON

  func json(_ licence: Licence) -> String {
    var s = "{\"number\":\"\(licence.number.value)\",\"fileNumber\":\"\(licence.fileNumber.value)\""
    s += ",\"name\":\(jsonQuoted(licence.name)),\"gender\":\"\(licence.gender.rawValue)\""
    s +=
      ",\"birthDate\":\"\(licence.birthDate)\",\"nationality\":\(jsonQuoted(licence.nationality))"
    s += ",\"address\":\(jsonQuoted(licence.address))"
    if let photo = licence.photo { s += ",\"photo\":\(jsonQuoted(photo))" }
    s += ",\"firstIssued\":\"\(licence.firstIssued)\",\"classes\":["
    s += licence.classes.map { "\"\($0.rawValue)\"" }.joined(separator: ",")
    s +=
      "],\"validity\":{\"term\":\"\(licence.validity.term.rawValue)\",\"validFrom\":\"\(licence.validity.validFrom)\""
    if let until = licence.validity.validUntil { s += ",\"validUntil\":\"\(until)\"" }
    s +=
      "},\"authority\":{\"name\":\(jsonQuoted(licence.authority.name)),\"code\":\(jsonQuoted(licence.authority.code))}"
    s += ",\"status\":\"\(licence.status.code)\",\"epoch\":\(licence.epoch)"
    if let until = licence.suspendedUntil { s += ",\"suspendedUntil\":\"\(until)\"" }
    return s + "}"
  }

  func json(_ v: VehicleRecord) -> String {
    "{\"plate\":\(jsonQuoted(v.plate.value)),\"vehicleClass\":\"\(v.vehicleClass.rawValue)\",\"owner\":\"\(v.owner.value)\",\"model\":\(jsonQuoted(v.model)),\"registered\":\"\(v.registered)\"}"
  }

  func json(_ m: MandateRecord) -> String {
    var s =
      "{\"licence\":\"\(m.licence.value)\",\"bank\":\(jsonQuoted(m.bank)),\"account\":\"\(m.account)\",\"authorisedOn\":\"\(m.authorisedOn)\""
    if let revoked = m.revokedOn { s += ",\"revokedOn\":\"\(revoked)\"" }
    return s + "}"
  }

  func json(_ d: DecisionRecord) -> String {
    var s = "{\"number\":\"\(d.number)\",\"licence\":\"\(d.licence.value)\""
    if let plate = d.plate { s += ",\"plate\":\(jsonQuoted(plate.value))" }
    s += ",\"offence\":\"\(d.offence)\",\"decidedOn\":\"\(d.decidedOn)\",\"fineYuan\":\(d.fineYuan)"
    s += ",\"paid\":\(d.paid),\"place\":\(jsonQuoted(d.place))}"
    return s
  }

  func json(_ o: OfficerRecord) -> String {
    "{\"id\":\"\(o.id)\",\"name\":\(jsonQuoted(o.name)),\"unit\":\(jsonQuoted(o.unit)),\"pinHash\":\"\(o.pinHash.encoded)\"}"
  }

  func json(_ t: TerminalRecord) -> String {
    "{\"id\":\(jsonQuoted(t.id)),\"unit\":\(jsonQuoted(t.unit))}"
  }
}

extension LocalDate {
  fileprivate func clamped(from lower: LocalDate) -> LocalDate { self < lower ? lower : self }
}

func pad(_ value: Int, _ width: Int) -> String {
  let text = String(value)
  return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}

/// A JSON string literal (also a YAML double-quoted scalar: the scenario writer uses it).
public func jsonQuoted(_ text: String) -> String {
  var out = "\""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    case _ where scalar.value < 0x20:
      let hex = String(scalar.value, radix: 16)
      out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out + "\""
}

/// Appends lines to a file through a buffer.
final class JSONLinesWriter {
  private let handle: FileHandle
  private var buffer: [UInt8] = []

  init(_ url: URL) throws {
    _ = FileManager.default.createFile(atPath: url.path, contents: nil)
    handle = try FileHandle(forWritingTo: url)
    try handle.truncate(atOffset: 0)
    buffer.reserveCapacity(1 << 22)
  }

  func append(_ line: String) throws {
    buffer.append(contentsOf: line.utf8)
    buffer.append(UInt8(ascii: "\n"))
    if buffer.count >= 1 << 22 { try flush() }
  }

  private func flush() throws {
    try handle.write(contentsOf: buffer)
    buffer.removeAll(keepingCapacity: true)
  }

  func close() throws {
    try flush()
    try handle.close()
  }
}
