namespace PulseCart.Emulators.CloudTasks;

/// <summary>Tasks in process memory: gone when the host stops.</summary>
internal sealed class InMemoryCloudTaskStore : ICloudTaskStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, EmulatedTask> _tasks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<(long Ticks, string Name)>> _schedules = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _reservations = new(StringComparer.Ordinal);

    // The reservations in the order they were made, which is the order they end (each lasts the same time): the ones
    // over are dropped from the front, so no removal scans them all.
    private readonly Queue<(string Name, DateTimeOffset Until)> _reservationsByEnd = new();

    public ValueTask<bool> TryAddAsync(EmulatedTask task, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_tasks.ContainsKey(task.Name))
            {
                return ValueTask.FromResult(false);
            }

            if (_reservations.TryGetValue(task.Name, out var reservedUntil))
            {
                if (reservedUntil > now)
                {
                    return ValueTask.FromResult(false);
                }

                _reservations.Remove(task.Name);
            }

            _tasks[task.Name] = task;
            Schedule(task.Queue).Add((task.ScheduleTime.UtcTicks, task.Name));
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask<EmulatedTask?> GetAsync(string name)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(_tasks.GetValueOrDefault(name));
        }
    }

    public ValueTask<IReadOnlyList<EmulatedTask>> ListAsync(string queue)
    {
        lock (_lock)
        {
            IReadOnlyList<EmulatedTask> tasks = [.. Schedule(queue).Select(entry => _tasks[entry.Name])];
            return ValueTask.FromResult(tasks);
        }
    }

    public ValueTask<bool> RemoveAsync(string name, DateTimeOffset now, DateTimeOffset reservedUntil)
    {
        lock (_lock)
        {
            if (!_tasks.Remove(name, out var task))
            {
                return ValueTask.FromResult(false);
            }

            Schedule(task.Queue).Remove((task.ScheduleTime.UtcTicks, name));
            while (_reservationsByEnd.TryPeek(out var oldest) && oldest.Until <= now)
            {
                _reservationsByEnd.Dequeue();

                // Unless the name was reserved again since, by a later run or delete.
                if (_reservations.TryGetValue(oldest.Name, out var until) && until == oldest.Until)
                {
                    _reservations.Remove(oldest.Name);
                }
            }

            _reservations[name] = reservedUntil;
            _reservationsByEnd.Enqueue((name, reservedUntil));
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask<bool> UpdateAsync(EmulatedTask task)
    {
        lock (_lock)
        {
            if (!_tasks.TryGetValue(task.Name, out var current))
            {
                return ValueTask.FromResult(false);
            }

            var schedule = Schedule(task.Queue);
            schedule.Remove((current.ScheduleTime.UtcTicks, task.Name));
            schedule.Add((task.ScheduleTime.UtcTicks, task.Name));
            _tasks[task.Name] = task;
            return ValueTask.FromResult(true);
        }
    }

    public async ValueTask PurgeAsync(string queue, DateTimeOffset now, DateTimeOffset reservedUntil)
    {
        List<string> names;
        lock (_lock)
        {
            names = [.. Schedule(queue).Select(entry => entry.Name)];
        }

        foreach (var name in names)
        {
            await RemoveAsync(name, now, reservedUntil).ConfigureAwait(false);
        }
    }

    public ValueTask<IReadOnlyList<string>> DueAsync(string queue, DateTimeOffset now, int limit)
    {
        lock (_lock)
        {
            var nowTicks = now.UtcTicks;
            IReadOnlyList<string> due = [.. Schedule(queue).TakeWhile(entry => entry.Ticks <= nowTicks).Take(limit).Select(entry => entry.Name)];
            return ValueTask.FromResult(due);
        }
    }

    public ValueTask<DateTimeOffset?> NextDueAfterAsync(string queue, DateTimeOffset now)
    {
        lock (_lock)
        {
            var schedule = Schedule(queue);
            var nowTicks = now.UtcTicks;
            if (schedule.Count == 0 || schedule.Max.Ticks <= nowTicks)
            {
                return ValueTask.FromResult<DateTimeOffset?>(null);
            }

            var later = schedule.GetViewBetween((nowTicks + 1, ""), schedule.Max);
            return ValueTask.FromResult<DateTimeOffset?>(new DateTimeOffset(later.Min.Ticks, TimeSpan.Zero));
        }
    }

    private SortedSet<(long Ticks, string Name)> Schedule(string queue)
    {
        if (!_schedules.TryGetValue(queue, out var schedule))
        {
            schedule = new SortedSet<(long Ticks, string Name)>(ScheduleOrder.Instance);
            _schedules[queue] = schedule;
        }

        return schedule;
    }

    private sealed class ScheduleOrder : IComparer<(long Ticks, string Name)>
    {
        public static readonly ScheduleOrder Instance = new();

        public int Compare((long Ticks, string Name) x, (long Ticks, string Name) y)
        {
            var byTime = x.Ticks.CompareTo(y.Ticks);
            return byTime != 0 ? byTime : string.CompareOrdinal(x.Name, y.Name);
        }
    }
}
