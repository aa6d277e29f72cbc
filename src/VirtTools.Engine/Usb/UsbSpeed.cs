using System.Globalization;

namespace VirtTools.Usb;

/// <summary>The kernel's enum usb_device_speed: the code USB/IP puts on the wire and writes to vhci_hcd's attach file.</summary>
public enum UsbSpeed
{
    Unknown = 0,
    Low = 1,
    Full = 2,
    High = 3,
    Wireless = 4,
    Super = 5,
    SuperPlus = 6,
}

/// <summary>Conversions between the speed codes and the megabits per second that sysfs' <c>speed</c> attribute prints.</summary>
public static class UsbSpeeds
{
    /// <summary>The sysfs <c>speed</c> text ("1.5", "12", "480", "5000", "10000", "20000") as a number; null for anything else.</summary>
    public static double? ParseMbps(string? text) =>
        double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var mbps) && mbps > 0 ? mbps : null;

    /// <summary>The speed code for a sysfs speed; SuperSpeedPlus covers both 10000 and 20000 (gen 2x2).</summary>
    public static UsbSpeed FromMbps(double? mbps) => mbps switch
    {
        null => UsbSpeed.Unknown,
        >= 10000 => UsbSpeed.SuperPlus,
        >= 5000 => UsbSpeed.Super,
        >= 480 => UsbSpeed.High,
        >= 12 => UsbSpeed.Full,
        > 0 => UsbSpeed.Low,
        _ => UsbSpeed.Unknown,
    };

    /// <summary>The nominal rate of a speed code; null when unknown.</summary>
    public static double? ToMbps(UsbSpeed speed) => speed switch
    {
        UsbSpeed.Low => 1.5,
        UsbSpeed.Full => 12,
        UsbSpeed.High or UsbSpeed.Wireless => 480,
        UsbSpeed.Super => 5000,
        UsbSpeed.SuperPlus => 10000,
        _ => null,
    };
}
