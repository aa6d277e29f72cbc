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

    private readonly SystemRoot _root;
    private readonly JsonRecordStore<PassthroughRecord> _file;

    public PassthroughStateStore(SystemRoot root)
    {
        _root = root;
        _file = new JsonRecordStore<PassthroughRecord>(root, SystemPath, r => r.Address, r => r.Problem(), PciErrors.PassthroughStateCorruptId,
            PciErrors.PassthroughRecordInvalidId, "Remove-PciPassthrough falls back to reprobing for a host driver");
    }

    /// <summary>Every record, by address; empty when there is no file yet.</summary>
    public IReadOnlyDictionary<string, PassthroughRecord> Load() => _file.Load();

    public PassthroughRecord? Find(string address) => _file.Find(address);

    /// <summary>
    /// Saves and removes records and regenerates the modprobe.d file of each of <paramref name="modprobeDrivers"/>
    /// from the records that result, all under the store's one lock: two shells (or a shell and the agent)
    /// persisting functions at once each see the other's records, in the state file and in modprobe.d.
    /// </summary>
    public void Commit(IReadOnlyCollection<PassthroughRecord> save, IReadOnlyCollection<string> remove, IReadOnlyCollection<string> modprobeDrivers)
    {
        if (save.Count == 0 && remove.Count == 0 && modprobeDrivers.Count == 0) return;
        _file.Update(records =>
        {
            foreach (var record in save) records[record.Address] = record;
            foreach (var address in remove) records.Remove(address);
        }, records =>
        {
            foreach (var driver in modprobeDrivers) ModprobePersistence.Write(_root, driver, records.Values);
        });
    }
}
