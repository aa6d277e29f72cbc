using System.Collections;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.UsbIp.Client;

/// <summary>
/// A server's device list as this client took it: the devices it can use, and the records it left out because a
/// value in them cannot be used (a bus id that is no bus id, a speed no kernel knows...). One bad record does not
/// hide the others from an administrator, and is reported rather than silently dropped.
/// </summary>
public sealed class UsbIpDeviceList<T> : IReadOnlyList<T>
{
    /// <summary>How many refusals <see cref="Warnings"/> spells out; a hostile server could send thousands.</summary>
    public const int MaxWarnings = 10;

    private readonly IReadOnlyList<T> _devices;

    public UsbIpDeviceList(IReadOnlyList<T> devices, IReadOnlyList<UsbIpRefusedDevice> refused)
    {
        _devices = devices;
        Refused = refused;
    }

    /// <summary>The records left out, each with the failure that says which value is wrong and which server sent it.</summary>
    public IReadOnlyList<UsbIpRefusedDevice> Refused { get; }

    /// <summary>One line per refused record, at most <see cref="MaxWarnings"/> and a count of the rest.</summary>
    public IEnumerable<string> Warnings
    {
        get
        {
            foreach (var refused in Refused.Take(MaxWarnings)) yield return refused.Problem.Message;
            if (Refused.Count > MaxWarnings) yield return $"{Refused.Count - MaxWarnings} more device records were left out for the same kind of reason.";
        }
    }

    /// <summary>The same list with each device converted, the refusals kept.</summary>
    public UsbIpDeviceList<TOut> ConvertAll<TOut>(Func<T, TOut> convert) => new(_devices.Select(convert).ToList(), Refused);

    public int Count => _devices.Count;

    public T this[int index] => _devices[index];

    public IEnumerator<T> GetEnumerator() => _devices.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A device record a server listed that the client left out, and why (ErrorId UsbIpInvalidDeviceRecord).</summary>
public sealed record UsbIpRefusedDevice(UsbIpDeviceRecord Record, UsbIpProtocolException Problem);
