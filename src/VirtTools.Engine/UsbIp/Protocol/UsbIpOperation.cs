namespace VirtTools.UsbIp.Protocol;

/// <summary>op_common codes of the management phase: requests are 0x80 &lt;&lt; 8 | op, replies the bare op.</summary>
public enum UsbIpOperation : ushort
{
    ReplyImport = 0x0003,
    ReplyDeviceList = 0x0005,
    RequestImport = 0x8003,
    RequestDeviceList = 0x8005,
}
