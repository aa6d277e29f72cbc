using System.Globalization;

namespace VirtTools.Usb;

/// <summary>USB class, subclass and protocol codes as the two-digit lowercase hex that usb.ids and lsusb use ("09").</summary>
public static class UsbClassCode
{
    public const string Hub = "09";

    public static string? Format(int? code) => code is int v and >= 0 and <= 0xff ? v.ToString("x2", CultureInfo.InvariantCulture) : null;
}
