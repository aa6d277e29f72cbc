namespace VirtTools.UsbIp.Protocol;

/// <summary>The command field of a URB-level header (usbip_header_basic).</summary>
public enum UsbIpCommand : uint
{
    Submit = 1,
    Unlink = 2,
    SubmitReply = 3,
    UnlinkReply = 4,
}

/// <summary>The transfer direction of usbip_header_basic: 0 OUT (host to device), 1 IN.</summary>
public enum UsbIpDirection : uint
{
    Out = 0,
    In = 1,
}
