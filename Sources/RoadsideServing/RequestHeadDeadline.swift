public import NIOCore
public import NIOHTTPTypes

/// Closes a connection whose request head has not fully arrived within `seconds` of the
/// connection opening or of the previous response ending: a client that trickles a header
/// byte at a time (slowloris) stays under the idle timeout but not under this deadline. A
/// request being answered is never cut: the deadline runs only while a head is awaited.
public final class RequestHeadDeadline: ChannelDuplexHandler, RemovableChannelHandler {
  public typealias InboundIn = HTTPRequestPart
  public typealias InboundOut = HTTPRequestPart
  public typealias OutboundIn = HTTPResponsePart
  public typealias OutboundOut = HTTPResponsePart

  let seconds: Int64
  private var timer: Scheduled<Void>?

  public init(seconds: Int64) { self.seconds = seconds }

  public func handlerAdded(context: ChannelHandlerContext) {
    if context.channel.isActive { arm(context) }
  }

  public func channelActive(context: ChannelHandlerContext) {
    arm(context)
    context.fireChannelActive()
  }

  public func handlerRemoved(context: ChannelHandlerContext) {
    timer?.cancel()
    timer = nil
  }

  public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    if case .head = unwrapInboundIn(data) {
      timer?.cancel()
      timer = nil
    }
    context.fireChannelRead(data)
  }

  public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?)
  {
    if case .end = unwrapOutboundIn(data) { arm(context) }
    context.write(data, promise: promise)
  }

  private func arm(_ context: ChannelHandlerContext) {
    timer?.cancel()
    let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
    timer = context.eventLoop.scheduleTask(in: .seconds(seconds)) {
      loopBound.value.close(promise: nil)
    }
  }
}
