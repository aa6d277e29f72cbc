namespace VirtTools.UsbIp.Vhci;

/// <summary>What a host should carry: so many desktops, each importing so many devices of one speed.</summary>
public sealed record VhciCapacityTarget
{
    /// <summary>Far beyond any one kernel (63 buses × 15 ports), small enough that every product fits an int.</summary>
    public const int MaxDesktops = 100_000;

    /// <summary>A USB bus numbers at most 127 devices.</summary>
    public const int MaxDevicesPerDesktop = 127;

    public VhciCapacityTarget(int desktops, int devicesPerDesktop = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(desktops, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(desktops, MaxDesktops);
        ArgumentOutOfRangeException.ThrowIfLessThan(devicesPerDesktop, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(devicesPerDesktop, MaxDevicesPerDesktop);
        Desktops = desktops;
        DevicesPerDesktop = devicesPerDesktop;
    }

    public int Desktops { get; }

    public int DevicesPerDesktop { get; }

    /// <summary>The ports of one speed the target occupies.</summary>
    public int Devices => Desktops * DevicesPerDesktop;
}
