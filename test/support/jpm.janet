# A stand-in for jpm 1.x, which cannot be installed here, enough to run
# project.janet's tasks: the part of jpm's dialect project.janet uses
# (declare-project, rule, task, phony, add-dep, install-rule, declare-source,
# declare-binscript, create-dirs) with jpm's semantics, where they matter:
# a task or phony always runs; a file rule runs only when its target is
# missing or older than an input (jpm/rules.janet), so a rule keyed on file
# times would miss a changed --headerpath. Only defines things.

(defn- create-dirs
  "mkdir -p for every directory of the file path `dest` but the last element."
  [dest]
  (def segs (string/split "/" dest))
  (for i 1 (length segs)
    (def path (string/join (slice segs 0 i) "/"))
    (unless (empty? path) (os/mkdir path))))

(defn- dialect
  "A fresh environment with jpm's project.janet functions over `rules`."
  [rules settings]
  (def env (make-env))
  (defn rule-impl [target deps thunk &opt phony]
    (def r (or (rules target)
               (set (rules target) @{:task phony :inputs @[] :recipe @[]})))
    (array/concat (r :inputs) deps)
    (array/push (r :recipe) thunk))
  (defn add-dep [target dep]
    (unless (rules target) (errorf "no rule for target '%s'" target))
    (array/push (get-in rules [target :inputs]) dep))
  (defn macro [f] @{:macro true :value f})
  (put env 'rule (macro (fn [target deps & body] ~(,rule-impl ,target ,deps (fn [] nil ,;body)))))
  (put env 'task (macro (fn [target deps & body] ~(,rule-impl ,target ,deps (fn [] nil ,;body) true))))
  (put env 'phony (get env 'task))
  (put env 'add-dep @{:value add-dep})
  (put env 'create-dirs @{:value create-dirs})
  (put env 'declare-project
       @{:value (fn [&keys meta]
                  (put env :project meta)
                  (each t ["build" "install" "test" "clean"] (rule-impl t [] (fn [] nil) true)))})
  (defn installs [&] nil)
  (each name ['install-rule 'declare-source 'declare-binscript 'declare-bin]
    (put env name @{:value installs}))
  (eachp [k v] settings (put env k v))
  env)

(defn- run-rule
  "Runs `target`'s inputs, then its recipe when out of date, as jpm does."
  [rules target done]
  (unless (done target)
    (put done target true)
    (def r (rules target))
    (unless (or r (os/stat target)) (errorf "target %v does not exist and no rule exists to build it" target))
    (when r
      (each i (r :inputs) (run-rule rules i done))
      (def mtime (os/stat target :modified))
      (def stale (or (r :task) (not mtime)
                     (some |(let [m (os/stat $ :modified)] (or (not m) (< mtime m))) (r :inputs))))
      (when stale (each thunk (r :recipe) (thunk))))))

(defn run
  "Evaluates `project` (a project.janet path) as jpm would, with `settings`
  (e.g. {:headerpath H :buildpath \"out/\" :modpath M :modext \".so\"}), then
  runs the task `target` (e.g. \"build\") and everything it depends on."
  [project settings target]
  (def rules @{})
  (def env (dialect rules (merge {:buildpath "build/" :modext ".so"} settings)))
  (put env :syspath (settings :modpath))
  (dofile project :env env)
  # Recipes see jpm's settings as dynamic bindings, as under jpm.
  (def fib (fiber/new |(run-rule rules target @{}) :e))
  (fiber/setenv fib env)
  (def res (resume fib))
  (when (= :error (fiber/status fib)) (propagate res fib)))
