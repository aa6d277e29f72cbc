using VirtTools.Diagnostics;

namespace VirtTools.UsbIp.Protocol;

/// <summary>
/// The only exception the codec throws on input: a message that is truncated, too large, of another protocol
/// version, or does not make sense. The connection that carried it cannot be trusted any more and is closed.
/// </summary>
public sealed class UsbIpProtocolException : VirtToolsException
{
    public const string Truncated = "UsbIpMessageTruncated";
    public const string VersionMismatch = "UsbIpVersionMismatch";
    public const string LimitExceeded = "UsbIpLimitExceeded";
    public const string Malformed = "UsbIpMalformedMessage";
    public const string Unexpected = "UsbIpUnexpectedMessage";
    /// <summary>A device record whose framing is sound but whose values cannot be used (see <see cref="UsbIpDeviceRecordCheck"/>).</summary>
    public const string InvalidDevice = "UsbIpInvalidDeviceRecord";

    /// <param name="target">The peer, when the message names it (a client names the server it asked).</param>
    public UsbIpProtocolException(string errorId, string message, object? target = null)
        : base(errorId, FailureKind.ProtocolError, message,
            "Check that the peer speaks the Linux USB/IP protocol (usbipd/usbip from linux-tools, version 1.1.1) on this port.", target)
    {
    }
}
