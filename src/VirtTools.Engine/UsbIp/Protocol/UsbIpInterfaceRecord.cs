namespace VirtTools.UsbIp.Protocol;

/// <summary>usbip_usb_interface: one interface of a device in OP_REP_DEVLIST (a padding byte follows on the wire).</summary>
public readonly record struct UsbIpInterfaceRecord(byte Class, byte SubClass, byte Protocol);
