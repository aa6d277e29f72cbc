namespace VirtTools.UsbIp.Protocol;

/// <summary>op_common, the 8-byte header of every management message.</summary>
public readonly record struct UsbIpOpCommon(ushort Version, UsbIpOperation Code, UsbIpStatus Status);
