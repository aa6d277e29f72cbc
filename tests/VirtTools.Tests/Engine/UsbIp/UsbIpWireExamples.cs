using VirtTools.Usb;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>Known messages for byte-exact tests: the device the captured fixture exports, as usbipd describes it.</summary>
internal static class UsbIpWireExamples
{
    public const string FixturePath = "/sys/devices/pci0000:00/0000:00:01.0/usb2/2-3";

    /// <summary>2-3 in the fixture: a QEMU USB storage device (46f4:0001) on a SuperSpeed port, one interface 08/06/50.</summary>
    public static UsbIpDeviceRecord FixtureDevice => new()
    {
        Path = FixturePath,
        BusId = "2-3",
        BusNumber = 2,
        DeviceNumber = 2,
        Speed = UsbSpeed.Super,
        VendorId = 0x46f4,
        ProductId = 0x0001,
        BcdDevice = 0x0000,
        ConfigurationValue = 1,
        NumConfigurations = 1,
        NumInterfaces = 1,
        Interfaces = new[] { new UsbIpInterfaceRecord(0x08, 0x06, 0x50) },
    };

    public static byte[] Hex(string text) => Convert.FromHexString(string.Concat(text.Where(char.IsAsciiHexDigit)));

    /// <summary>A char[size] field holding text, NUL-padded.</summary>
    public static byte[] Field(string text, int size)
    {
        var bytes = new byte[size];
        System.Text.Encoding.ASCII.GetBytes(text, bytes);
        return bytes;
    }
}
