using System.Text.Json;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;

namespace VirtTools.State;

/// <summary>
/// What VirtTools remembers about the changes it made (which driver a device came from), as a small JSON list in one
/// file under the root, one record per key. A change made in one shell can then be undone from any other.
/// Every change is a read-modify-write under one lock (<see cref="RecordLock"/>), written by <see cref="AtomicFile"/>
/// (mode 0644); every record is checked against its fields' grammar when it is saved and when it is read back, so a
/// record edited by hand never reaches a path or a config line.
/// </summary>
public sealed class JsonRecordStore<TRecord> where TRecord : class
{
    /// <summary>Record files hold a few records; a file this big is not one VirtTools wrote.</summary>
    public const int MaxFileBytes = 1 << 20;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly SystemRoot _root;
    private readonly Func<TRecord, string?> _key;
    private readonly Func<TRecord, string?> _problem;
    private readonly string _corruptErrorId;
    private readonly string _invalidErrorId;
    private readonly string _withoutIt;

    /// <param name="root">The root the file lives under.</param>
    /// <param name="systemPath">The file ("/var/lib/virttools/passthrough.json").</param>
    /// <param name="key">What identifies a record (an address, a bus id).</param>
    /// <param name="problem">What is wrong with a record's fields (<see cref="RecordField"/>), or null when nothing is.</param>
    /// <param name="corruptErrorId">The ErrorId when the file is not a list of valid records.</param>
    /// <param name="invalidErrorId">The ErrorId when a record to save has a field that fails its grammar.</param>
    /// <param name="withoutIt">What happens when the user deletes the file, for the error's recommended action.</param>
    public JsonRecordStore(SystemRoot root, string systemPath, Func<TRecord, string?> key, Func<TRecord, string?> problem,
        string corruptErrorId, string invalidErrorId, string withoutIt)
    {
        _root = root;
        SystemPath = systemPath;
        _key = key;
        _problem = problem;
        _corruptErrorId = corruptErrorId;
        _invalidErrorId = invalidErrorId;
        _withoutIt = withoutIt;
    }

    public string SystemPath { get; }

    /// <summary>How long a change waits for another process's change to finish before it gives up.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Every record, by key; empty when there is no file yet. Reads take no lock: a rename replaces the file whole.</summary>
    public IReadOnlyDictionary<string, TRecord> Load() => Read(FilePath(), forChange: false);

    public TRecord? Find(string key) => Load().GetValueOrDefault(key);

    /// <summary>Adds or replaces the record for its key.</summary>
    public void Save(TRecord record) => Update(records => records[_key(record) ?? ""] = record);

    public void Remove(string key) => Update(records => records.Remove(key));

    /// <summary>
    /// Changes the records under the lock: reads them, lets <paramref name="change"/> edit them, checks and writes
    /// them (the last record gone deletes the file), then runs <paramref name="alsoUnderLock"/> with the new set, for
    /// files generated from the records (modprobe.d) that must not interleave with another change either. When that
    /// throws, the record file and those files are put back as they were before the exception leaves.
    /// </summary>
    public IReadOnlyDictionary<string, TRecord> Update(Action<Dictionary<string, TRecord>> change,
        Action<IReadOnlyDictionary<string, TRecord>>? alsoUnderLock = null)
    {
        var path = FilePath();
        var (folderPath, name) = AtomicFile.Split(path);
        try
        {
            using var folder = StateFolder.Open(folderPath);
            using var held = RecordLock.Acquire(folder, name, LockTimeout);
            var before = Read(path, forChange: true);
            var records = new Dictionary<string, TRecord>(before, StringComparer.Ordinal);
            change(records);
            foreach (var record in records.Values)
                if (_problem(record) is { } problem)
                    throw new VirtToolsException(_invalidErrorId, FailureKind.InvalidArgument,
                        $"Refusing to record {RecordField.Printable(_key(record) ?? "")} in {SystemPath}: {problem}.",
                        "Nothing was written. Such a name cannot go into a sysfs path or a config line safely.", _key(record));
            Write(path, records.Values);
            try
            {
                alsoUnderLock?.Invoke(records);
            }
            catch
            {
                // The files made from the records failed: the records go back to what they were, and so do the files
                // already remade, so they never disagree. Best effort: the failure the caller sees is the first one.
                try
                {
                    Write(path, before.Values);
                    alsoUnderLock?.Invoke(before);
                }
                catch (Exception e) when (e is VirtToolsException or IOException or UnauthorizedAccessException) { }
                throw;
            }
            return records;
        }
        catch (UnauthorizedAccessException e)
        {
            throw new VirtToolsException(Sysfs.SysfsErrors.PermissionDeniedId, FailureKind.PermissionDenied, $"Cannot change {SystemPath}: {e.Message}",
                "Run as root (sudo).", SystemPath, e);
        }
    }

    /// <summary>Replaces the file with <paramref name="records"/>, sorted by key; no records deletes it.</summary>
    private void Write(string path, IEnumerable<TRecord> records)
    {
        var list = records.OrderBy(r => _key(r), StringComparer.Ordinal).ToList();
        if (list.Count == 0) AtomicFile.Delete(path);
        else AtomicFile.WriteText(path, JsonSerializer.Serialize(list, Json) + "\n", AtomicFile.Public);
    }

    /// <summary>The file's place under the root, its folder resolved inside the root (the file name itself is never followed).</summary>
    private string FilePath()
    {
        var slash = SystemPath.LastIndexOf('/');
        return _root.ResolveForWrite(SystemPath[..Math.Max(slash, 1)]).TrimEnd('/') + "/" + SystemPath[(slash + 1)..];
    }

    private Dictionary<string, TRecord> Read(string path, bool forChange)
    {
        var byKey = new Dictionary<string, TRecord>(StringComparer.Ordinal);
        try
        {
            var text = AtomicFile.ReadText(path, MaxFileBytes);
            if (string.IsNullOrWhiteSpace(text)) return byKey;
            foreach (var record in JsonSerializer.Deserialize<List<TRecord>>(text, Json) ?? new List<TRecord>())
            {
                if (record is null || _key(record) is not { } key) continue;
                // A record that fails its grammar was not written by VirtTools: say so rather than act on it.
                if (_problem(record) is { } problem) throw Corrupt($"the record for {RecordField.Printable(key)} is not valid: {problem}", null);
                byKey[key] = record;
            }
            return byKey;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw Corrupt(e.Message, e);
        }
        catch (UnauthorizedAccessException) when (!forChange)
        {
            // Not ours to read (a user without root): as if there were no records. A change never starts from such a
            // guess: it would write the file without the records it could not see.
            return byKey;
        }
    }

    private VirtToolsException Corrupt(string why, Exception? cause) => new(_corruptErrorId, FailureKind.InvalidData,
        $"{SystemPath} is not a VirtTools record file: {why}", $"Fix or delete {SystemPath}; without it {_withoutIt}.", SystemPath, cause);
}
