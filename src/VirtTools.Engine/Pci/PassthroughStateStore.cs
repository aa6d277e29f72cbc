using VirtTools.State;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// The records of functions handed to stub drivers, in a small JSON file under the root (/var/lib survives
/// reboots, unlike /run: the modprobe.d line of -Persist does too, so its record must).
/// </summary>
public sealed class PassthroughStateStore
{
    public const string SystemPath = "/var/lib/virttools/passthrough.json";

    private readonly JsonRecordStore<PassthroughRecord> _file;

    public PassthroughStateStore(SystemRoot root) =>
        _file = new JsonRecordStore<PassthroughRecord>(root, SystemPath, r => r.Address, "PassthroughStateCorrupt",
            "Remove-PciPassthrough falls back to reprobing for a host driver");

    /// <summary>Every record, by address; empty when there is no file yet.</summary>
    public IReadOnlyDictionary<string, PassthroughRecord> Load() => _file.Load();

    public PassthroughRecord? Find(string address) => _file.Find(address);

    /// <summary>Adds or replaces the record for its address.</summary>
    public void Save(PassthroughRecord record) => _file.Save(record);

    public void Remove(string address) => _file.Remove(address);
}
