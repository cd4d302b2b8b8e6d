/// The fine an offence carries: the law's range, whether a warning may replace it, and
/// the amount the simulated province (Beijing) sets by default.
public struct FineRule: Sendable, Hashable, Codable {
  public let minimumYuan: Int
  public let maximumYuan: Int
  /// 道路交通安全法 §90 lets a warning replace the fine for ordinary traffic-rule offences.
  public let warningAllowed: Bool
  /// Beijing's amount (北京市实施《道路交通安全法》办法), or Roadside's stated default
  /// where Beijing sets none (see `defaultBasis`).
  public let defaultYuan: Int
  /// The law that sets the range.
  public let basis: String
  /// Where the default amount comes from.
  public let defaultBasis: String

  /// Whether a fine of `yuan` is a warning in place of the fine (道路交通安全法 §90): 0 yuan
  /// for an offence whose fine a warning may replace. For an offence that carries no fine at
  /// all (a maximum of 0), 0 yuan is simply its fine: no warning, and its points count.
  public func isWarning(_ yuan: Int) -> Bool { yuan == 0 && warningAllowed && maximumYuan > 0 }

  /// Checks a fine an officer chose. 0 means a warning (``isWarning(_:)``).
  public func check(_ yuan: Int, offence code: String) throws(DomainError) {
    if yuan == 0 {
      guard warningAllowed || maximumYuan == 0 else {
        throw .invalid(
          "offence \(code) cannot be dealt with by a warning; the fine must be \(minimumYuan)–\(maximumYuan) yuan (\(basis))"
        )
      }
      return
    }
    guard yuan >= minimumYuan, yuan <= maximumYuan else {
      if maximumYuan == 0 {
        throw .invalid("offence \(code) carries no fine (\(basis)); do not give --fine")
      }
      throw .invalid(
        "a fine of \(yuan) yuan is outside the legal range for offence \(code): \(minimumYuan)–\(maximumYuan) yuan (\(basis))"
      )
    }
  }
}

/// One entry of the offence catalogue.
public struct Offence: Sendable, Hashable, Codable, Identifiable {
  /// Roadside's catalogue code: four digits, the first two the points (`0601` scores 6).
  /// These are not the national GA/T 16 codes, which Roadside does not reproduce.
  public let code: String
  public let chinese: String
  public let english: String
  public let points: Int
  /// The article of 公安部令第163号 that sets the points (or 第28条 for warnings).
  public let pointsBasis: String
  public let fine: FineRule
  public let measure: LicenceMeasure
  /// Where the offence itself calls for withholding the paper licence at the roadside
  /// (扣留, a compulsory measure, not a penalty): the article of 公安部令第157号 §31 that
  /// names it, e.g. §31(一) for drink-driving, §31(三) for 50 % or more over the limit.
  public let roadsideWithholding: String?

  public var id: String { code }

  /// Procedure for the default penalty (the catalogue's default fine).
  public var defaultProcedure: Procedure {
    Procedure.gate(fine: Money(yuan: fine.defaultYuan), isWarning: false, measure: measure)
  }
}

/// The versioned offence catalogue.
public struct OffenceCatalogue: Sendable {
  public let version: String
  public let province: String
  public let offences: [Offence]
  private let byCode: [String: Offence]

  public init(version: String, province: String, offences: [Offence]) {
    self.version = version
    self.province = province
    self.offences = offences
    self.byCode = Dictionary(uniqueKeysWithValues: offences.map { ($0.code, $0) })
  }

  public func offence(_ code: String) -> Offence? { byCode[code] }

  /// Looks a code up, or explains that it is unknown.
  public func require(_ code: String) throws(DomainError) -> Offence {
    guard let offence = byCode[code.trimmingWhitespace()] else {
      throw .invalid(
        "unknown offence code \"\(code)\"; run 'roadside central offence list' to see the \(offences.count) codes of catalogue \(version)"
      )
    }
    return offence
  }
}

private let law = "道路交通安全法"
private let beijing = "北京市实施《道路交通安全法》办法"
private let points163 = "道路交通安全违法行为记分管理办法(公安部令第163号)"

// swift-format-ignore
private func o(
  _ code: String, _ chinese: String, _ english: String, _ points: Int, _ pointsArticle: String,
  _ range: ClosedRange<Int>, warning: Bool, _ rangeBasis: String, _ defaultYuan: Int,
  _ defaultBasis: String, _ measure: LicenceMeasure = .none, withhold: String? = nil
) -> Offence {
  Offence(
    code: code, chinese: chinese, english: english, points: points,
    pointsBasis: "\(points163) \(pointsArticle)",
    fine: FineRule(
      minimumYuan: range.lowerBound, maximumYuan: range.upperBound, warningAllowed: warning,
      defaultYuan: defaultYuan, basis: rangeBasis, defaultBasis: defaultBasis),
    measure: measure, roadsideWithholding: withhold)
}

private let rule90 = "\(law) 第90条"
private let rule92a = "\(law) 第92条第1款"
private let rule92b = "\(law) 第92条第2款"
private let rule99 = "\(law) 第99条"
private let roadsideDefault = "Roadside default (no Beijing amount set)"
/// 公安部令第163号 gives points only to the offences of 第8条–第12条 (第7条 names the values).
private let unscored = "第8条至第12条未列入（第7条）：不记分"
/// 公安部令第157号 §31(三); 执勤执法工作规范 附件3: over 50 %, the licence is withheld.
private let withhold50 = "公安部令第157号 §31(三)"

extension OffenceCatalogue {
  /// The catalogue of Roadside 2026.1: points from 公安部令第163号 (in force since
  /// 2022-04-01), fine ranges from 道路交通安全法, default amounts from Beijing's
  /// implementing measures (2018-09-28 edition) where it sets one.
  // swift-format-ignore
  public static let beijing2026 = OffenceCatalogue(
    version: "RS-2026.2", province: "北京市",
    offences: [
      // 12 points (第8条)
      o("1201", "饮酒后驾驶机动车", "driving after drinking", 12, "第8条第1项", 1000...2000, warning: false, "\(law) 第91条第1款", 1500, roadsideDefault, .suspend(months: 6), withhold: "公安部令第157号 §31(一)"),
      o("1202", "醉酒驾驶机动车", "drunk driving", 12, "第8条第1项", 0...0, warning: false, "\(law) 第91条第2款 (criminal liability; no fine by the traffic police)", 0, "no fine", .revoke),
      o("1203", "造成致人轻伤以上或者死亡的交通事故后逃逸，尚不构成犯罪", "leaving the scene of an accident with injury or death", 12, "第8条第2项", 200...2000, warning: false, "\(rule99)第1款第3项; 吊销: \(law) 第101条第2款", 2000, roadsideDefault, .revoke),
      o("1204", "使用伪造、变造的机动车号牌、行驶证、驾驶证", "using forged or altered plates, registration or licence", 12, "第8条第3项", 2000...5000, warning: false, "\(law) 第96条第1款", 5000, roadsideDefault),
      o("1205", "使用其他机动车号牌、行驶证", "using another vehicle's plates or registration", 12, "第8条第3项", 2000...5000, warning: false, "\(law) 第96条第3款", 5000, roadsideDefault),
      o("1206", "驾驶公路客运汽车载人超过核定人数百分之二十以上", "coach carrying 20% or more above its rated passengers", 12, "第8条第4项", 500...2000, warning: false, rule92a, 2000, roadsideDefault),
      o("1207", "驾驶其他机动车在高速公路、城市快速路上超速百分之五十以上", "car 50% or more over the limit on an expressway", 12, "第8条第5项", 200...2000, warning: false, "\(rule99)第1款第4项", 2000, roadsideDefault, withhold: withhold50),
      o("1208", "驾驶中型以上载客载货汽车在高速公路、城市快速路上超速百分之二十以上未达到百分之五十", "heavy vehicle 20–50% over the limit on an expressway", 12, "第8条第5项", 20...200, warning: true, rule90, 200, "\(beijing) 第96条第11项"),
      o("1209", "在高速公路、城市快速路上倒车、逆行、穿越中央分隔带掉头", "reversing, wrong way or U-turn across the median on an expressway", 12, "第8条第6项", 20...200, warning: true, rule90, 200, "\(beijing) 第102条第7项"),
      o("1210", "驾驶中型以上载客载货汽车在高速公路、城市快速路上超速百分之五十以上", "heavy vehicle 50% or more over the limit on an expressway", 12, "第8条第5项", 200...2000, warning: false, "\(rule99)第1款第4项", 2000, roadsideDefault, withhold: withhold50),
      o("1211", "驾驶其他载客汽车载人超过核定人数百分之百以上", "passenger car 100% or more above its rated passengers", 12, "第8条第4项", 20...200, warning: true, "\(law) 第49条, 第90条", 200, "\(beijing) 第96条第12项"),
      // 9 points (第9条)
      o("0901", "驾驶7座以上载客汽车载人超过核定人数百分之五十以上未达到百分之百", "7+ seat passenger car 50–100% above its rated passengers", 9, "第9条第1项", 20...200, warning: true, "\(law) 第49条, 第90条 (§92第1款 covers only 公路客运车辆)", 200, "\(beijing) 第96条第12项"),
      o("0902", "驾驶中型以上载客载货汽车在普通道路上超速百分之五十以上", "heavy vehicle 50% or more over the limit on an ordinary road", 9, "第9条第2项", 200...2000, warning: false, "\(rule99)第1款第4项", 1000, roadsideDefault, withhold: withhold50),
      o("0903", "在高速公路或者城市快速路上违法停车", "stopping illegally on an expressway", 9, "第9条第3项", 20...200, warning: true, rule90, 200, "\(beijing) 第102条第7项"),
      o("0904", "驾驶未悬挂机动车号牌的机动车上道路行驶", "driving without number plates", 9, "第9条第4项", 20...200, warning: true, "\(law) 第95条第1款, 第90条", 200, "\(beijing) 第95条第1项"),
      o("0905", "故意遮挡、污损机动车号牌", "deliberately covering or defacing number plates", 9, "第9条第4项", 20...200, warning: true, "\(law) 第95条第2款, 第90条", 200, "\(beijing) 第95条第3项"),
      o("0906", "驾驶与准驾车型不符的机动车", "driving a vehicle class the licence does not permit", 9, "第9条第5项", 200...2000, warning: false, "\(rule99)第1款第1项", 1000, roadsideDefault),
      o("0907", "连续驾驶中型以上载客汽车超过4小时未停车休息", "driving a heavy bus over 4 hours without rest", 9, "第9条第7项", 20...200, warning: true, rule90, 200, "\(beijing) 第97条第3项"),
      o("0908", "未取得校车驾驶资格驾驶校车", "driving a school bus without the school-bus qualification", 9, "第9条第6项", 1000...3000, warning: false, "校车安全管理条例 第47条 (not among the texts in shared/regulations)", 1000, roadsideDefault),
      // 6 points (第10条)
      o("0601", "驾驶机动车不按交通信号灯指示通行", "running a red light", 6, "第10条第8项", 20...200, warning: true, rule90, 200, "\(beijing) 第96条第4项"),
      o("0602", "机动车驾驶证被暂扣或者扣留期间驾驶机动车", "driving while the licence is suspended or withheld", 6, "第10条第9项", 200...2000, warning: false, "\(rule99)第1款第1项", 1000, roadsideDefault),
      o("0603", "在高速公路或者城市快速路上违法占用应急车道行驶", "driving in the emergency lane of an expressway", 6, "第10条第11项", 20...200, warning: true, rule90, 200, "\(beijing) 第97条第5项"),
      o("0604", "驾驶小型汽车在高速公路、城市快速路上超速百分之二十以上未达到百分之五十", "car 20–50% over the limit on an expressway", 6, "第10条第3项", 20...200, warning: true, rule90, 200, "\(beijing) 第96条第11项"),
      o("0605", "驾驶小型汽车在普通道路上超速百分之五十以上", "car 50% or more over the limit on an ordinary road", 6, "第10条第3项", 200...2000, warning: false, "\(rule99)第1款第4项", 1000, roadsideDefault, withhold: withhold50),
      o("0606", "驾驶中型以上载客载货汽车在高速公路、城市快速路上超速未达到百分之二十", "heavy vehicle under 20% over the limit on an expressway", 6, "第10条第2项", 20...200, warning: true, rule90, 200, "\(beijing) 第96条第11项"),
      o("0607", "驾驶载货汽车载物超过最大允许总质量百分之五十以上", "truck 50% or more over its maximum mass", 6, "第10条第4项", 500...2000, warning: false, rule92b, 1000, roadsideDefault),
      o("0608", "载运危险物品未按指定的时间、路线、速度行驶", "carrying dangerous goods off the prescribed time, route or speed", 6, "第10条第5项", 20...200, warning: true, rule90, 200, "\(beijing) 第96条第14项"),
      o("0609", "造成致人轻微伤或者财产损失的交通事故后逃逸", "leaving the scene of an accident with minor injury or damage", 6, "第10条第10项", 200...2000, warning: false, "\(rule99)第1款第3项; 吊销: \(law) 第101条第2款", 1000, roadsideDefault, .revoke),
      o("0610", "驾驶其他载客汽车载人超过核定人数百分之五十以上未达到百分之百", "passenger car 50–100% above its rated passengers", 6, "第10条第1项", 20...200, warning: true, rule90, 200, "\(beijing) 第96条第12项"),
      o("0611", "驾驶中型以上载客载货汽车在高速公路、城市快速路以外的道路上超速百分之二十以上未达到百分之五十", "heavy vehicle 20–50% over the limit on an ordinary road", 6, "第10条第2项", 20...200, warning: true, rule90, 200, "\(beijing) 第96条第11项"),
      // 3 points (第11条)
      o("0301", "驾驶机动车有拨打、接听手持电话等妨碍安全驾驶的行为", "using a handheld phone while driving", 3, "第11条第6项", 20...200, warning: true, rule90, 200, "\(beijing) 第97条第1项"),
      o("0302", "驾驶机动车行经人行横道不按规定减速、停车、避让行人", "not yielding to pedestrians at a crossing", 3, "第11条第7项", 20...200, warning: true, rule90, 200, "\(beijing) 第96条第10项"),
      o("0303", "驾驶机动车在普通道路上逆行", "driving the wrong way on an ordinary road", 3, "第11条第4项", 20...200, warning: true, rule90, 200, "\(beijing) 第96条第1项"),
      o("0304", "驾驶机动车不按规定超车、让行", "improper overtaking or failing to give way", 3, "第11条第4项", 20...200, warning: true, rule90, 200, "\(beijing) 第96条第5项"),
      o("0305", "遇前方机动车停车排队或者缓慢行驶时借道超车、占用对面车道、穿插等候车辆", "jumping a queue through the oncoming lane", 3, "第11条第5项", 20...200, warning: true, rule90, 200, "\(beijing) 第98条第3项"),
      o("0306", "在高速公路或者城市快速路上不按规定车道行驶", "wrong lane on an expressway", 3, "第11条第3项", 20...200, warning: true, rule90, 100, "\(beijing) 第91条第2项"),
      o("0307", "驾驶小型汽车在普通道路上超速百分之二十以上未达到百分之五十", "car 20–50% over the limit on an ordinary road", 3, "第11条第2项", 20...200, warning: true, rule90, 200, "\(beijing) 第96条第11项"),
      o("0308", "驾驶不按规定安装机动车号牌的机动车上道路行驶", "number plates not mounted as required", 3, "第11条第10项", 20...200, warning: true, "\(law) 第95条第2款, 第90条", 200, "\(beijing) 第95条第2项"),
      o("0309", "车辆故障、事故停车后不按规定使用灯光或者设置警告标志", "no hazard lights or warning triangle after a breakdown", 3, "第11条第11项", 20...200, warning: true, rule90, 200, "\(beijing) 第100条第2项"),
      o("0310", "驾驶机动车在高速公路上行驶低于规定最低时速", "below the minimum speed on an expressway", 3, "第11条第15项", 20...200, warning: true, rule90, 200, "\(beijing) 第102条第4项"),
      o("0311", "连续驾驶载货汽车超过4小时未停车休息", "driving a truck over 4 hours without rest", 3, "第11条第14项", 20...200, warning: true, rule90, 200, "\(beijing) 第97条第3项"),
      o("0312", "驾驶载货汽车载物超过最大允许总质量百分之三十以上未达到百分之五十", "truck 30–50% over its maximum mass", 3, "第11条第9项", 500...2000, warning: false, rule92b, 500, roadsideDefault),
      o("0313", "驾驶其他载客汽车载人超过核定人数百分之二十以上未达到百分之五十", "passenger car 20–50% above its rated passengers", 3, "第11条第1项", 20...200, warning: true, rule90, 200, "\(beijing) 第96条第12项"),
      o("0314", "驾驶机动车不按规定避让校车", "not giving way to a school bus", 3, "第11条第8项", 20...200, warning: true, rule90, 200, roadsideDefault),
      o("0315", "驾驶未按规定定期进行安全技术检验的公路客运汽车、旅游客运汽车、危险物品运输车辆上道路行驶", "coach or dangerous-goods vehicle overdue for its safety inspection", 3, "第11条第12项", 20...200, warning: true, rule90, 200, "\(beijing) 第95条第8项"),
      // 1 point (第12条)
      o("0101", "驾驶中型以上载客载货汽车在普通道路上超速百分之十以上未达到百分之二十", "heavy vehicle 10–20% over the limit on an ordinary road", 1, "第12条第1项", 20...200, warning: true, rule90, 200, "\(beijing) 第96条第11项"),
      o("0102", "驾驶机动车不按规定会车", "improper passing of oncoming traffic", 1, "第12条第2项", 20...200, warning: true, rule90, 200, "\(beijing) 第96条第7项"),
      o("0103", "在普通道路上不按规定倒车", "improper reversing on an ordinary road", 1, "第12条第2项", 20...200, warning: true, rule90, 100, "\(beijing) 第91条第6项"),
      o("0104", "在普通道路上不按规定掉头", "improper U-turn on an ordinary road", 1, "第12条第2项", 20...200, warning: true, rule90, 200, "\(beijing) 第96条第8项"),
      o("0105", "驾驶机动车不按规定使用灯光", "improper use of lights", 1, "第12条第3项", 20...200, warning: true, rule90, 100, "\(beijing) 第91条第10项"),
      o("0106", "驾驶机动车违反禁令标志指示", "disobeying a prohibition sign", 1, "第12条第4项", 20...200, warning: true, rule90, 100, "\(beijing) 第91条第3项"),
      o("0107", "驾驶机动车违反禁止标线指示", "disobeying a prohibition road marking", 1, "第12条第4项", 20...200, warning: true, rule90, 100, "\(beijing) 第91条第3项"),
      o("0108", "驾驶机动车载货长度、宽度、高度超过规定", "load longer, wider or higher than allowed", 1, "第12条第5项", 20...200, warning: true, rule90, 100, "\(beijing) 第93条第5项"),
      o("0109", "驾驶载货汽车载物超过最大允许总质量未达到百分之三十", "truck under 30% over its maximum mass", 1, "第12条第6项", 200...500, warning: false, rule92b, 200, roadsideDefault),
      o("0110", "驾驶未按规定定期进行安全技术检验的机动车上道路行驶", "vehicle overdue for its safety inspection", 1, "第12条第7项", 20...200, warning: true, rule90, 200, "\(beijing) 第95条第8项"),
      o("0111", "驾驶机动车在道路上行驶时未按规定系安全带", "driver not wearing a seat belt", 1, "第12条第9项", 20...200, warning: true, rule90, 50, "\(beijing) 第89条第1项"),
      o("0112", "驾驶摩托车不戴安全头盔", "riding a motorcycle without a helmet", 1, "第12条第10项", 20...200, warning: true, rule90, 50, "\(beijing) 第89条第2项"),
      // 0 points: offences 第8条–第12条 do not list (第7条 gives the only values)
      o("0001", "未随车携带驾驶证、行驶证", "not carrying the driving licence or registration", 0, unscored, 20...200, warning: true, "\(law) 第95条第1款, 第90条", 100, "\(beijing) 第90条第1项"),
      o("0002", "违反规定使用喇叭", "improper use of the horn", 0, unscored, 20...200, warning: true, rule90, 100, "\(beijing) 第91条第14项"),
      o("0003", "车门、车厢未关好时行车", "driving with a door or the load compartment open", 0, unscored, 20...200, warning: true, rule90, 50, "\(beijing) 第89条第3项"),
      o("0004", "未按照规定与前车保持安全距离", "not keeping a safe distance", 0, unscored, 20...200, warning: true, rule90, 100, "\(beijing) 第91条第5项"),
      o("0005", "在驾驶室前后窗范围内悬挂、放置妨碍安全驾驶的物品", "objects obstructing the windscreen or rear window", 0, unscored, 20...200, warning: true, rule90, 100, "\(beijing) 第90条第4项"),
      o("0006", "违反规定临时停车", "stopping where stopping is not allowed", 0, unscored, 20...200, warning: false, "\(law) 第93条第2款", 200, "\(beijing) 第99条第2项"),
      o("0007", "未配备有效的灭火器具、反光的故障车警告标志", "no fire extinguisher or reflective warning triangle", 0, unscored, 20...200, warning: true, rule90, 50, "\(beijing) 第89条第4项"),
      o("0008", "未按照规定粘贴或者悬挂实习标志", "probationary driver's sign not displayed", 0, unscored, 20...200, warning: true, rule90, 100, "\(beijing) 第90条第6项"),
      o("0010", "驾驶机动车超过规定时速未达到百分之二十", "car under 20% over the limit", 0, unscored, 20...200, warning: true, rule90, 200, "\(beijing) 第96条第11项"),
      o("0009", "向道路上抛撒物品", "throwing objects onto the road", 0, unscored, 20...200, warning: true, rule90, 100, "\(beijing) 第91条第13项"),
    ])

  /// The catalogue in force.
  public static let current = beijing2026
}
